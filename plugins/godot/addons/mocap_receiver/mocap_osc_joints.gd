class_name MocapOscJoints
extends Node3D
## Gameplay from mocap's plain OSC schema (`mocap capture --osc HOST:39540 --osc-axes godot`):
## each child named after a bone (LeftHand, Head, RightFoot, ...) follows that joint, this node
## being the room; `frame_received` carries every joint and bone for anything else.

signal frame_received(joints: Dictionary, bones: Dictionary)

@export var port := 39540
@export var rotate_children := true

var _peer := PacketPeerUDP.new()
var _frame := -1
var _joints := {}  # bone name -> Vector3, metres, Godot axes
var _bones := {}  # bone name -> Quaternion, from the T-pose


func _ready() -> void:
	if not Engine.is_editor_hint():
		_peer.bind(port)


func _exit_tree() -> void:
	_peer.close()


func _process(_delta: float) -> void:
	for message in MocapOsc.receive(_peer):
		_apply_message(message[0], message[1])


func _apply_message(address: String, args: Array) -> void:
	if address == "/mocap/frame" and args.size() >= 4 and args[0] is int:
		_frame = args[0]
		_joints = {}
		_bones = {}
	elif address == "/mocap/joint" and _floats(args, 1, 4):
		_joints[args[0]] = Vector3(args[1], args[2], args[3])
	elif address == "/mocap/bone" and _floats(args, 1, 5):
		_bones[args[0]] = Quaternion(args[1], args[2], args[3], args[4]).normalized()
	elif address == "/mocap/frame/end" and args.size() >= 1 and args[0] is int and args[0] == _frame:
		_move_children()
		frame_received.emit(_joints, _bones)


## True when args[0] is a bone name and args[first..end) are floats.
func _floats(args: Array, first: int, end: int) -> bool:
	if args.size() < end or not args[0] is String:
		return false
	for i in range(first, end):
		if not args[i] is float:
			return false
	return true


func _move_children() -> void:
	for child in get_children():
		if child is Node3D and _joints.has(String(child.name)):
			child.position = _joints[String(child.name)]
			if rotate_children and _bones.has(String(child.name)):
				child.quaternion = _bones[String(child.name)]
