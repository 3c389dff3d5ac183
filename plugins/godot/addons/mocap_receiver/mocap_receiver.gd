@tool
class_name MocapReceiver
extends SkeletonModifier3D
## Receives mocap's VMC stream and poses the parent Skeleton3D,
## a humanoid whose bones are named as SkeletonProfileHumanoid names them (retarget a VRM or
## other avatar to that profile on import). As a SkeletonModifier3D it applies after the
## AnimationPlayer, so animation does not overwrite the performer.

@export var port := 39539
@export var apply_hips_position := true
## A mesh whose blend shapes are named as the expressions mocap sends (--vmc-expressions arkit for
## perfect-sync meshes, vrm1 or vrm0 where the shapes carry those names); none: bones only.
@export var expression_mesh: MeshInstance3D

var _peer := PacketPeerUDP.new()
var _rotations := {}  # VMC bone name -> Quaternion, Godot axes, from the T-pose
var _root := Vector3.ZERO
var _hips_height := 0.0
var _global_rest := {}  # bone index -> its global rest rotation
var _pending_expressions := {}  # expression name -> weight 0..1, until /VMC/Ext/Blend/Apply


func _ready() -> void:
	if not Engine.is_editor_hint():
		_peer.bind(port)


func _exit_tree() -> void:
	_peer.close()


func _process(_delta: float) -> void:
	for message in MocapOsc.receive(_peer):
		_apply_message(message[0], message[1])


func _apply_message(address: String, args: Array) -> void:
	if address == "/VMC/Ext/Blend/Val":
		if args.size() >= 2 and args[0] is String and args[1] is float:
			_pending_expressions[args[0]] = args[1]
		return
	if address == "/VMC/Ext/Blend/Apply":
		_apply_expressions()
		return
	if args.size() < 8 or not args[0] is String:
		return
	for i in range(1, 8):
		if not args[i] is float:
			return
	var position := MocapHumanoid.position_from_unity(Vector3(args[1], args[2], args[3]))
	var turn := Quaternion(args[4], args[5], args[6], args[7]).normalized()
	var rotation := MocapHumanoid.rotation_from_unity(turn)
	if address == "/VMC/Ext/Root/Pos":
		_root = position
	elif address == "/VMC/Ext/Bone/Pos":
		_rotations[args[0]] = rotation
		if args[0] == "Hips":
			_hips_height = position.y


func _apply_expressions() -> void:
	if expression_mesh != null:
		for expression in _pending_expressions:
			var index := expression_mesh.find_blend_shape_by_name(expression)
			if index >= 0:
				expression_mesh.set_blend_shape_value(index, _pending_expressions[expression])
	_pending_expressions.clear()


func _process_modification() -> void:
	var skeleton := get_skeleton()
	if skeleton == null or _rotations.is_empty():
		return
	if _global_rest.is_empty():
		for bone in skeleton.get_bone_count():
			var global_rest := skeleton.get_bone_global_rest(bone)
			_global_rest[bone] = global_rest.basis.get_rotation_quaternion()
	for vmc_bone in _rotations:
		var bone := skeleton.find_bone(MocapHumanoid.profile_name(vmc_bone))
		if bone < 0:
			continue
		var rest := skeleton.get_bone_rest(bone).basis.get_rotation_quaternion()
		var pose := MocapHumanoid.local_pose(rest, _global_rest[bone], _rotations[vmc_bone])
		skeleton.set_bone_pose_rotation(bone, pose)
	var hips := skeleton.find_bone("Hips")
	if apply_hips_position and hips >= 0:
		skeleton.set_bone_pose_position(hips, Vector3(_root.x, _root.y + _hips_height, _root.z))
