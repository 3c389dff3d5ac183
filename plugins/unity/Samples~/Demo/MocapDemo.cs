// The sample: spheres for the performer's hips, head, hands and feet, following mocap's plain
// OSC schema (`mocap capture --camera 0 --osc 127.0.0.1:39540 --osc-axes unity`), with a
// camera and a light, all made at start so the scene file stays one object.
using UnityEngine;

namespace Mocap.Receiver.Samples
{
    public sealed class MocapDemo : MonoBehaviour
    {
        static readonly string[] Followed = { "Hips", "Head", "LeftHand", "RightHand", "LeftFoot", "RightFoot" };

        void Awake()
        {
            var camera = new GameObject("Camera").AddComponent<Camera>();
            camera.transform.SetPositionAndRotation(new Vector3(0f, 1.2f, 3.5f), Quaternion.Euler(10f, 180f, 0f));  // facing the performer
            var sun = new GameObject("Sun").AddComponent<Light>();
            sun.type = LightType.Directional;
            sun.transform.rotation = Quaternion.Euler(50f, 150f, 0f);
            var floor = GameObject.CreatePrimitive(PrimitiveType.Plane);
            floor.transform.localScale = new Vector3(0.4f, 1f, 0.4f);

            var targets = new JointTarget[Followed.Length];
            for (int i = 0; i < Followed.Length; i++)
            {
                var sphere = GameObject.CreatePrimitive(PrimitiveType.Sphere);
                sphere.name = Followed[i];
                sphere.transform.localScale = Vector3.one * 0.12f;
                targets[i] = new JointTarget { bone = Followed[i], target = sphere.transform, rotate = false };
            }
            var joints = gameObject.AddComponent<MocapOscJoints>();
            joints.targets = targets;
        }
    }
}
