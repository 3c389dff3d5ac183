@tool
extends EditorPlugin


func _enter_tree() -> void:
	add_custom_type("MocapReceiver", "SkeletonModifier3D", preload("mocap_receiver.gd"), null)


func _exit_tree() -> void:
	remove_custom_type("MocapReceiver")
