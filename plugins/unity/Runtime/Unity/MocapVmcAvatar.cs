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
        [Tooltip("A mesh whose blend shapes are named as the expressions sent (mocap --vmc-expressions arkit for " +
                 "perfect-sync meshes); VRM blend shape clips go through UniVRM's own proxy instead.")]
        public SkinnedMeshRenderer expressionMesh;

        MocapReceiver receiver;
        Transform[] bones;             // the avatar's bone for each of Humanoid.Bones (null if it has none)
        int[] parents;                 // each bone's parent in Humanoid.Bones, -1 for the hips
        Quaternion[] restWorld;        // each bone's world rotation in the avatar's T-pose
        Quaternion[] world;            // this frame's world rotations, from the T-pose
        bool[] posed;                  // which bones this frame carried

        void OnEnable()
        {
            receiver = new MocapReceiver(port);
            int count = Humanoid.Bones.Length;
            bones = new Transform[count];
            parents = new int[count];
            restWorld = new Quaternion[count];
            world = new Quaternion[count];
            posed = new bool[count];
            for (int i = 0; i < count; i++)
            {
                bones[i] = avatar.GetBoneTransform((HumanBodyBones)System.Enum.Parse(typeof(HumanBodyBones), Humanoid.Bones[i]));
                string parent = Humanoid.Parent[Humanoid.Bones[i]];
                parents[i] = parent == null ? -1 : System.Array.IndexOf(Humanoid.Bones, parent);
                restWorld[i] = bones[i] != null ? bones[i].rotation : Quaternion.identity;
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
            for (int i = 0; i < Humanoid.Bones.Length; i++)   // parents first
            {
                Quat local;
                posed[i] = frame.Rotations.TryGetValue(Humanoid.Bones[i], out local);
                if (!posed[i]) continue;
                int parent = parents[i];
                world[i] = (parent >= 0 && posed[parent] ? world[parent] : transform.rotation) * ToUnity(local);
                if (bones[i] != null) bones[i].rotation = world[i] * restWorld[i];
            }
            if (expressionMesh != null && expressionMesh.sharedMesh != null)
                foreach (var expression in frame.Expressions)
                {
                    int index = expressionMesh.sharedMesh.GetBlendShapeIndex(expression.Key);
                    if (index >= 0) expressionMesh.SetBlendShapeWeight(index, 100f * expression.Value);   // Unity's weights run 0..100
                }
            Transform hips = bones[0];   // Humanoid.Bones starts with the hips
            Vec3 offset;
            if (applyRootPosition && hips != null && frame.Offsets.TryGetValue("Hips", out offset))
                hips.position = transform.TransformPoint(new Vector3(frame.RootPosition.X, frame.RootPosition.Y + offset.Y, frame.RootPosition.Z));
        }
    }
}
