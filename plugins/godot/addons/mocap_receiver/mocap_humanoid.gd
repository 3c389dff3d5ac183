class_name MocapHumanoid
extends RefCounted
## What mocap sends, in Godot's terms: bone names onto SkeletonProfileHumanoid, Unity's axes
## to Godot's, and the VRM-normalised rotations onto a skeleton whose rest is not normalised.

## VMC (Unity HumanBodyBones) names that differ in SkeletonProfileHumanoid: VRM 1.0 calls the
## thumb's three bones metacarpal, proximal and distal; Unity proximal, intermediate and distal.
const RENAMED := {
	"LeftThumbProximal": "LeftThumbMetacarpal",
	"LeftThumbIntermediate": "LeftThumbProximal",
	"RightThumbProximal": "RightThumbMetacarpal",
	"RightThumbIntermediate": "RightThumbProximal",
}


## The SkeletonProfileHumanoid bone name for a VMC bone name.
static func profile_name(vmc_bone: String) -> String:
	return RENAMED.get(vmc_bone, vmc_bone)


## A position in Unity's axes (left-handed, Y up) in Godot's (right-handed, Y up): X mirrored,
## so the avatar faces +Z as an imported glTF model does and moves to its own left.
static func position_from_unity(p: Vector3) -> Vector3:
	return Vector3(-p.x, p.y, p.z)


## A rotation in Unity's axes in Godot's: the mirror turns the axis as a pseudovector.
static func rotation_from_unity(q: Quaternion) -> Quaternion:
	return Quaternion(q.x, -q.y, -q.z, q.w)


## The local pose of a bone whose local rest is ``rest`` and global rest rotation ``global_rest``
## (both in the skeleton's space, the rest a T-pose facing +Z) for ``normalised``, the bone's
## rotation from the T-pose on the normalised humanoid: rest * G^-1 * Q * G.
static func local_pose(
	rest: Quaternion, global_rest: Quaternion, normalised: Quaternion
) -> Quaternion:
	return rest * global_rest.inverse() * normalised * global_rest
