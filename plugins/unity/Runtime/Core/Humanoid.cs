// Vectors, quaternions and the humanoid hierarchy mocap sends, without UnityEngine, so the same
// code runs in Unity and in a plain .NET/Mono test. Unity's conventions: left-handed, +Y up,
// quaternions (x, y, z, w) rotating vectors as Unity's Quaternion * Vector3 does.
using System;
using System.Collections.Generic;

namespace Mocap.Receiver
{
    public struct Vec3
    {
        public float X, Y, Z;
        public Vec3(float x, float y, float z) { X = x; Y = y; Z = z; }
        public static Vec3 operator +(Vec3 a, Vec3 b) { return new Vec3(a.X + b.X, a.Y + b.Y, a.Z + b.Z); }
        public static Vec3 operator -(Vec3 a, Vec3 b) { return new Vec3(a.X - b.X, a.Y - b.Y, a.Z - b.Z); }
        public float Length { get { return (float)Math.Sqrt(X * X + Y * Y + Z * Z); } }
        public override string ToString() { return string.Format("{0:F5} {1:F5} {2:F5}", X, Y, Z); }
    }

    public struct Quat
    {
        public float X, Y, Z, W;
        public Quat(float x, float y, float z, float w) { X = x; Y = y; Z = z; W = w; }
        public static readonly Quat Identity = new Quat(0f, 0f, 0f, 1f);

        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
                a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        public static Vec3 operator *(Quat q, Vec3 v)
        {
            // v + 2w (u x v) + 2 u x (u x v), u = (x, y, z)
            float cx = q.Y * v.Z - q.Z * v.Y, cy = q.Z * v.X - q.X * v.Z, cz = q.X * v.Y - q.Y * v.X;
            float ccx = q.Y * cz - q.Z * cy, ccy = q.Z * cx - q.X * cz, ccz = q.X * cy - q.Y * cx;
            return new Vec3(v.X + 2f * (q.W * cx + ccx), v.Y + 2f * (q.W * cy + ccy), v.Z + 2f * (q.W * cz + ccz));
        }

        public Quat Normalized
        {
            get
            {
                float n = (float)Math.Sqrt(X * X + Y * Y + Z * Z + W * W);
                return n > 1e-8f ? new Quat(X / n, Y / n, Z / n, W / n) : Identity;
            }
        }
    }

    /// <summary>The humanoid bones mocap sends (Unity HumanBodyBones names) and their parents, parents
    /// first: the body's, the 30 finger bones (with --hands) and the eyes (with --face).</summary>
    public static class Humanoid
    {
        static readonly string[] Body = {
            "Hips", "Spine", "Chest", "Neck", "Head",
            "LeftShoulder", "LeftUpperArm", "LeftLowerArm", "LeftHand",
            "RightShoulder", "RightUpperArm", "RightLowerArm", "RightHand",
            "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToes",
            "RightUpperLeg", "RightLowerLeg", "RightFoot", "RightToes",
        };

        public static readonly Dictionary<string, string> Parent = new Dictionary<string, string> {
            {"Hips", null}, {"Spine", "Hips"}, {"Chest", "Spine"}, {"Neck", "Chest"}, {"Head", "Neck"},
            {"LeftShoulder", "Chest"}, {"LeftUpperArm", "LeftShoulder"}, {"LeftLowerArm", "LeftUpperArm"}, {"LeftHand", "LeftLowerArm"},
            {"RightShoulder", "Chest"}, {"RightUpperArm", "RightShoulder"}, {"RightLowerArm", "RightUpperArm"}, {"RightHand", "RightLowerArm"},
            {"LeftUpperLeg", "Hips"}, {"LeftLowerLeg", "LeftUpperLeg"}, {"LeftFoot", "LeftLowerLeg"}, {"LeftToes", "LeftFoot"},
            {"RightUpperLeg", "Hips"}, {"RightLowerLeg", "RightUpperLeg"}, {"RightFoot", "RightLowerLeg"}, {"RightToes", "RightFoot"},
            {"LeftEye", "Head"}, {"RightEye", "Head"},
        };

        public static readonly string[] Bones = AllBones();

        static string[] AllBones()
        {
            var bones = new List<string>(Body);
            foreach (string side in new[] { "Left", "Right" })
                foreach (string finger in new[] { "Thumb", "Index", "Middle", "Ring", "Little" })
                {
                    string parent = side + "Hand";
                    foreach (string phalanx in new[] { "Proximal", "Intermediate", "Distal" })
                    {
                        string bone = side + finger + phalanx;
                        Parent[bone] = parent;
                        bones.Add(bone);
                        parent = bone;
                    }
                }
            bones.Add("LeftEye");
            bones.Add("RightEye");
            return bones.ToArray();
        }
    }

    /// <summary>Axes of the engines the plain schema can be sent in, and their conversion to Unity's.</summary>
    public static class Axes
    {
        /// <summary>A position sent with --osc-axes <paramref name="engine"/> in Unity's axes.</summary>
        public static Vec3 ToUnity(string engine, Vec3 p)
        {
            switch (engine)
            {
                case "godot": return new Vec3(-p.X, p.Y, p.Z);     // right-handed, Y up, +Z forward
                case "unreal": return new Vec3(p.Y, p.Z, p.X);     // left-handed, Z up, X forward, Y right
                default: return p;                                 // unity
            }
        }

        /// <summary>A rotation sent with --osc-axes <paramref name="engine"/> in Unity's axes.</summary>
        public static Quat ToUnity(string engine, Quat q)
        {
            switch (engine)
            {
                case "godot": return new Quat(q.X, -q.Y, -q.Z, q.W);     // a mirror in X: the axis turns as a pseudovector
                case "unreal": return new Quat(q.Y, q.Z, q.X, q.W);      // both left-handed: the axes only turn
                default: return q;
            }
        }
    }
}
