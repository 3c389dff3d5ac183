// Applies mocap's VMC stream to a humanoid avatar: each bone's local rotation (from the T-pose,
// on the normalised humanoid) onto the Animator's bone, and the hips' position. Thin on purpose:
// receiving and decoding live in Mocap.Receiver.Core, which is tested outside Unity.
using UnityEngine;

namespace Mocap.Receiver
{
    [AddComponentMenu("mocap/VMC Avatar")]
    public sealed class MocapVmcAvatar : MonoBehaviour
    {
        public Animator avatar;
        public int port = 39539;
        [Tooltip("Move the avatar's hips with the performer (off: rotations only).")]
        public bool applyRootPosition = true;

        MocapReceiver receiver;
        Quaternion[] restWorld;        // each bone's world rotation in the avatar's T-pose

        void OnEnable()
        {
            receiver = new MocapReceiver(port);
            restWorld = new Quaternion[Humanoid.Bones.Length];
            for (int i = 0; i < Humanoid.Bones.Length; i++)
            {
                Transform bone = avatar.GetBoneTransform((HumanBodyBones)System.Enum.Parse(typeof(HumanBodyBones), Humanoid.Bones[i]));
                restWorld[i] = bone != null ? bone.rotation : Quaternion.identity;
            }
        }

        void OnDisable()
        {
            receiver.Dispose();
        }

        static Quaternion ToUnity(Quat q) { return new Quaternion(q.X, q.Y, q.Z, q.W); }

        void LateUpdate()   // after the Animator, so animation does not overwrite the performer
        {
            VmcFrame frame = receiver.LatestVmc;
            if (frame == null) return;
            // mocap's rotations are from the T-pose on the normalised humanoid: a bone's world
            // rotation is the product of its chain's rotations times its own T-pose world rotation.
            var chain = new System.Collections.Generic.Dictionary<string, Quaternion>();
            for (int i = 0; i < Humanoid.Bones.Length; i++)
            {
                string name = Humanoid.Bones[i];
                Quat local;
                if (!frame.Rotations.TryGetValue(name, out local)) continue;
                string parent = Humanoid.Parent[name];
                Quaternion world = (parent != null && chain.ContainsKey(parent) ? chain[parent] : transform.rotation) * ToUnity(local);
                chain[name] = world;
                Transform bone = avatar.GetBoneTransform((HumanBodyBones)System.Enum.Parse(typeof(HumanBodyBones), name));
                if (bone != null) bone.rotation = world * restWorld[i];
            }
            Transform hips = avatar.GetBoneTransform(HumanBodyBones.Hips);
            Vec3 offset;
            if (applyRootPosition && hips != null && frame.Offsets.TryGetValue("Hips", out offset))
                hips.position = transform.TransformPoint(new Vector3(frame.RootPosition.X, frame.RootPosition.Y + offset.Y, frame.RootPosition.Z));
        }
    }
}
