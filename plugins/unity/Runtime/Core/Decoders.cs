// What mocap sends, decoded into frames: VMC (an avatar's local rotations and rest offsets) and
// the plain schema (joints and bones in the room). A message that is not what its address
// promises (too few arguments, wrong types) is ignored, never trusted and never thrown over.
using System.Collections.Generic;

namespace Mocap.Receiver
{
    /// <summary>One VMC frame: the root, and each bone's local offset and rotation (Unity axes).</summary>
    public sealed class VmcFrame
    {
        public float TimeS = float.NaN;
        public bool Tracked;
        public Vec3 RootPosition;
        public Quat RootRotation = Quat.Identity;
        public readonly Dictionary<string, Vec3> Offsets = new Dictionary<string, Vec3>();
        public readonly Dictionary<string, Quat> Rotations = new Dictionary<string, Quat>();
        /// <summary>Expression weights 0..1 by name (/VMC/Ext/Blend/Val), as of the frame's /VMC/Ext/Blend/Apply.</summary>
        public readonly Dictionary<string, float> Expressions = new Dictionary<string, float>();
        readonly Dictionary<string, float> pendingExpressions = new Dictionary<string, float>();

        internal void SetExpression(string name, float weight) { pendingExpressions[name] = weight; }

        internal void ApplyExpressions()
        {
            foreach (var pair in pendingExpressions) Expressions[pair.Key] = pair.Value;
            pendingExpressions.Clear();
        }

        /// <summary>World positions of every bone received, by forward kinematics from the root.</summary>
        public Dictionary<string, Vec3> WorldPositions()
        {
            var world = new Dictionary<string, Quat>();
            var positions = new Dictionary<string, Vec3>();
            foreach (string bone in Humanoid.Bones)
            {
                if (!Rotations.ContainsKey(bone)) continue;
                string parent = Humanoid.Parent[bone];
                if (parent == null)
                {
                    world[bone] = RootRotation * Rotations[bone];
                    positions[bone] = RootPosition + RootRotation * Offsets[bone];
                }
                else if (world.ContainsKey(parent))
                {
                    world[bone] = world[parent] * Rotations[bone];
                    positions[bone] = positions[parent] + world[parent] * Offsets[bone];
                }
            }
            return positions;
        }
    }

    /// <summary>Turns VMC messages into frames: a frame ends where /VMC/Ext/OK starts the next.</summary>
    public sealed class VmcDecoder
    {
        VmcFrame current = new VmcFrame();
        public int Frames;
        public int Ignored;   // messages with a VMC address but not its arguments

        /// <summary>Applies one message; returns the frame it completed, if any.</summary>
        public VmcFrame Apply(OscMessage m)
        {
            switch (m.Address)
            {
                case "/VMC/Ext/OK":
                    VmcFrame done = current.Rotations.Count > 0 ? current : null;
                    current = new VmcFrame();
                    current.Tracked = m.Count >= 4 && m.IsInt(3) && m.Int(3) == 1;
                    if (done != null) Frames++;
                    return done;
                case "/VMC/Ext/T":
                    if (m.IsFloat(0)) current.TimeS = m.Float(0); else Ignored++;
                    return null;
                case "/VMC/Ext/Root/Pos":
                    if (IsTransform(m)) { current.RootPosition = Position(m); current.RootRotation = Rotation(m); } else Ignored++;
                    return null;
                case "/VMC/Ext/Bone/Pos":
                    if (IsTransform(m)) { current.Offsets[m.String(0)] = Position(m); current.Rotations[m.String(0)] = Rotation(m); }
                    else Ignored++;
                    return null;
                case "/VMC/Ext/Blend/Val":
                    if (m.Count >= 2 && m.IsString(0) && m.IsFloat(1)) current.SetExpression(m.String(0), m.Float(1)); else Ignored++;
                    return null;
                case "/VMC/Ext/Blend/Apply":
                    current.ApplyExpressions();
                    return null;
                default:
                    return null;
            }
        }

        static bool IsTransform(OscMessage m)
        {
            if (m.Count < 8 || !m.IsString(0)) return false;
            for (int i = 1; i < 8; i++) if (!m.IsFloat(i)) return false;
            return true;
        }

        static Vec3 Position(OscMessage m) { return new Vec3(m.Float(1), m.Float(2), m.Float(3)); }
        static Quat Rotation(OscMessage m) { return new Quat(m.Float(4), m.Float(5), m.Float(6), m.Float(7)).Normalized; }
    }

    /// <summary>One frame of the plain schema, converted to Unity's axes.</summary>
    public sealed class SchemaFrame
    {
        public int Number;
        public float TimeS;
        public bool Tracked, Settled;
        public readonly Dictionary<string, Vec3> Joints = new Dictionary<string, Vec3>();
        public readonly Dictionary<string, Quat> Bones = new Dictionary<string, Quat>();
    }

    /// <summary>Turns plain-schema messages into frames, complete at /mocap/frame/end.</summary>
    public sealed class SchemaDecoder
    {
        readonly string engine;
        SchemaFrame current;
        public int Frames;
        public int Ignored;

        /// <param name="engine">The --osc-axes the sender used (unity, godot or unreal).</param>
        public SchemaDecoder(string engine) { this.engine = engine; }

        public SchemaFrame Apply(OscMessage m)
        {
            switch (m.Address)
            {
                case "/mocap/frame":
                    if (m.Count >= 4 && m.IsInt(0) && m.IsFloat(1) && m.IsInt(2) && m.IsInt(3))
                        current = new SchemaFrame { Number = m.Int(0), TimeS = m.Float(1), Tracked = m.Int(2) == 1, Settled = m.Int(3) == 1 };
                    else { current = null; Ignored++; }
                    return null;
                case "/mocap/joint":
                    if (current != null && m.Count >= 4 && m.IsString(0) && m.IsFloat(1) && m.IsFloat(2) && m.IsFloat(3))
                        current.Joints[m.String(0)] = Axes.ToUnity(engine, new Vec3(m.Float(1), m.Float(2), m.Float(3)));
                    else Ignored++;
                    return null;
                case "/mocap/bone":
                    if (current != null && m.Count >= 5 && m.IsString(0) && m.IsFloat(1) && m.IsFloat(2) && m.IsFloat(3) && m.IsFloat(4))
                        current.Bones[m.String(0)] = Axes.ToUnity(engine, new Quat(m.Float(1), m.Float(2), m.Float(3), m.Float(4)).Normalized);
                    else Ignored++;
                    return null;
                case "/mocap/frame/end":
                    SchemaFrame done = current != null && m.IsInt(0) && m.Int(0) == current.Number ? current : null;
                    current = null;
                    if (done != null) Frames++;
                    return done;
                default:
                    return null;
            }
        }
    }
}
