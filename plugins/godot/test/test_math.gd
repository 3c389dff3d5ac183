extends SceneTree
## Run headless where Godot 4 is installed:
##   godot --headless --path plugins/godot -s test/test_math.gd
## Checks the addon's axis conversion and rest-pose maths against the golden vectors that
## tests/test_godot_addon.py computed from a real rig and a real capture.

const Golden := preload("golden_vectors.gd")
const Humanoid := preload("res://addons/mocap_receiver/mocap_humanoid.gd")


func _q(values: Array) -> Quaternion:
	return Quaternion(values[0], values[1], values[2], values[3])


func _init() -> void:
	var failures := 0
	for row in Golden.VECTORS:
		var normalised := Humanoid.rotation_from_unity(_q(row[3]))
		var pose := Humanoid.local_pose(_q(row[1]), _q(row[2]), normalised)
		var expected := _q(row[4])
		if absf(pose.dot(expected)) < 1.0 - 1e-6:  # the same rotation, whatever its sign
			print("%s: %s, expected %s" % [row[0], pose, expected])
			failures += 1
	if failures == 0:
		print("golden vectors: all %d bones match" % Golden.VECTORS.size())
	quit(1 if failures else 0)
