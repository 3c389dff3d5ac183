// Gameplay from mocap's plain OSC schema: moves chosen transforms to the performer's joints (a
// hand to grab with, the head to dodge with) and raises an event per frame for anything else.
// Receiving and decoding live in Mocap.Receiver.Core, which is tested outside Unity.
using System;
using UnityEngine;
using UnityEngine.Events;

namespace Mocap.Receiver
{
    [Serializable]
    public sealed class JointTarget
    {
        [Tooltip("A HumanBodyBones name mocap sends, e.g. LeftHand, Head, RightFoot.")]
        public string bone = "LeftHand";
        public Transform target;
        public bool rotate = true;
    }

    [Serializable]
    public sealed class SchemaFrameEvent : UnityEvent<SchemaFrame> { }

    [AddComponentMenu("mocap/OSC Joints")]
    public sealed class MocapOscJoints : MonoBehaviour
    {
        public int port = 39540;
        [Tooltip("The --osc-axes mocap sends with; joints are converted to Unity's axes.")]
        public string axes = "unity";
        public JointTarget[] targets = new JointTarget[0];
        [Tooltip("Called on the main thread with each new frame.")]
        public SchemaFrameEvent onFrame = new SchemaFrameEvent();

        MocapReceiver receiver;
        int lastFrame = -1;

        void OnEnable() { receiver = new MocapReceiver(port, axes); }
        void OnDisable() { receiver.Dispose(); }

        void Update()
        {
            SchemaFrame frame = receiver.LatestSchema;
            if (frame == null || frame.Number == lastFrame) return;
            lastFrame = frame.Number;
            foreach (JointTarget joint in targets)
            {
                Vec3 p;
                Quat q;
                if (joint.target == null || !frame.Joints.TryGetValue(joint.bone, out p)) continue;
                joint.target.position = transform.TransformPoint(new Vector3(p.X, p.Y, p.Z));   // this object is the room
                if (joint.rotate && frame.Bones.TryGetValue(joint.bone, out q))
                    joint.target.rotation = transform.rotation * new Quaternion(q.X, q.Y, q.Z, q.W);
            }
            onFrame.Invoke(frame);
        }
    }
}
