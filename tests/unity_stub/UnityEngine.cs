// The few UnityEngine types the package's MonoBehaviours and sample use, with their signatures
// and no behaviour: enough to compile those scripts outside Unity and catch what does not
// compile. Nothing here runs; Unity itself is not available on these machines.
using System;

namespace UnityEngine
{
    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 one { get { return new Vector3(1, 1, 1); } }
        public static Vector3 operator *(Vector3 v, float s) { return v; }
    }

    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion identity { get { return new Quaternion(0, 0, 0, 1); } }
        public static Quaternion Euler(float x, float y, float z) { return identity; }
        public static Quaternion operator *(Quaternion a, Quaternion b) { return a; }
    }

    public class Object { public string name; }
    public class Component : Object { public Transform transform; public GameObject gameObject; }
    public class Behaviour : Component { public bool enabled; }
    public class MonoBehaviour : Behaviour { }

    public class Transform : Component
    {
        public Vector3 position, localScale;
        public Quaternion rotation;
        public Vector3 TransformPoint(Vector3 point) { return point; }
        public void SetPositionAndRotation(Vector3 position, Quaternion rotation) { }
    }

    public sealed class GameObject : Object
    {
        public GameObject(string name) { }
        public Transform transform;
        public T AddComponent<T>() where T : Component { return default(T); }
        public static GameObject CreatePrimitive(PrimitiveType type) { return null; }
    }

    public enum PrimitiveType { Sphere, Capsule, Cylinder, Cube, Plane, Quad }
    public enum LightType { Spot, Directional, Point }
    public sealed class Camera : Behaviour { }
    public sealed class Light : Behaviour { public LightType type; }

    public enum HumanBodyBones
    {
        Hips, LeftUpperLeg, RightUpperLeg, LeftLowerLeg, RightLowerLeg, LeftFoot, RightFoot, Spine, Chest, Neck, Head,
        LeftShoulder, RightShoulder, LeftUpperArm, RightUpperArm, LeftLowerArm, RightLowerArm, LeftHand, RightHand,
        LeftToes, RightToes, LeftEye, RightEye, Jaw,
        LeftThumbProximal, LeftThumbIntermediate, LeftThumbDistal, LeftIndexProximal, LeftIndexIntermediate, LeftIndexDistal, LeftMiddleProximal, LeftMiddleIntermediate, LeftMiddleDistal, LeftRingProximal, LeftRingIntermediate, LeftRingDistal, LeftLittleProximal, LeftLittleIntermediate, LeftLittleDistal, RightThumbProximal, RightThumbIntermediate, RightThumbDistal, RightIndexProximal, RightIndexIntermediate, RightIndexDistal, RightMiddleProximal, RightMiddleIntermediate, RightMiddleDistal, RightRingProximal, RightRingIntermediate, RightRingDistal, RightLittleProximal, RightLittleIntermediate, RightLittleDistal,
        UpperChest,
    }

    public class Renderer : Component { }
    public sealed class Mesh : Object
    {
        public int GetBlendShapeIndex(string blendShapeName) { return -1; }
    }
    public sealed class SkinnedMeshRenderer : Renderer
    {
        public Mesh sharedMesh;
        public void SetBlendShapeWeight(int index, float value) { }
    }
    public sealed class Animator : Behaviour
    {
        public Transform GetBoneTransform(HumanBodyBones bone) { return null; }
    }

    public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menuName) { } }
    public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string tooltip) { } }
}

namespace UnityEngine.Events
{
    public class UnityEvent<T0>
    {
        public void Invoke(T0 arg0) { }
    }
}
