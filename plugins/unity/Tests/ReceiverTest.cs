// A console program around the receiver core, for tests outside Unity (Mono here):
//   receive VMC_PORT SCHEMA_PORT AXES IDLE_S OUT.csv [JOINTS]  record every frame's joints (JOINTS: comma-separated names), by forward
//                                                      kinematics of what was applied (VMC) and as
//                                                      received (plain schema), until IDLE_S idle
//                                                      after the first datagram
//   fuzz SAMPLES.hex SEED COUNT                        feed COUNT broken copies of real datagrams
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Mocap.Receiver;

static class ReceiverTest
{
    static string[] Joints = {
        "Hips", "Head", "LeftUpperArm", "LeftHand", "RightUpperArm", "RightHand",
        "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "RightUpperLeg", "RightLowerLeg", "RightFoot",
    };

    static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
        if ((args.Length == 6 || args.Length == 7) && args[0] == "receive")
        {
            if (args.Length == 7) Joints = args[6].Split(',');
            return Receive(int.Parse(args[1]), int.Parse(args[2]), args[3], double.Parse(args[4]), args[5]);
        }
        if (args.Length == 4 && args[0] == "fuzz") return Fuzz(args[1], int.Parse(args[2]), int.Parse(args[3]));
        Console.Error.WriteLine("usage: receive VMC_PORT SCHEMA_PORT AXES IDLE_S OUT.csv [JOINT,JOINT,...] | fuzz SAMPLES.hex SEED COUNT");
        return 2;
    }

    static string Row(string kind, float time, IDictionary<string, Vec3> positions)
    {
        var cells = new List<string> { kind, time.ToString("R") };
        foreach (string joint in Joints)
        {
            Vec3 p;
            if (!positions.TryGetValue(joint, out p)) return null;
            cells.Add(p.X.ToString("R")); cells.Add(p.Y.ToString("R")); cells.Add(p.Z.ToString("R"));
        }
        return string.Join(",", cells);
    }

    static int Receive(int vmcPort, int schemaPort, string axes, double idleS, string output)
    {
        var rows = new List<string>();
        using (var vmc = new MocapReceiver(vmcPort))
        using (var schema = new MocapReceiver(schemaPort, axes))
        {
            vmc.VmcFrameReceived += frame => { string r = Row("vmc", frame.TimeS, frame.WorldPositions()); if (r != null) lock (rows) rows.Add(r); };
            schema.SchemaFrameReceived += frame => { string r = Row("schema", frame.TimeS, frame.Joints); if (r != null) lock (rows) rows.Add(r); };
            Console.WriteLine("listening");
            Console.Out.Flush();
            int seen = 0;
            DateTime quietSince = DateTime.UtcNow, deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
            while (DateTime.UtcNow < deadline && (seen == 0 || DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(idleS)))
            {
                Thread.Sleep(50);
                int now = vmc.Datagrams + schema.Datagrams;
                if (now != seen) { seen = now; quietSince = DateTime.UtcNow; }
            }
            lock (rows) File.WriteAllLines(output, new[] { "kind,time," + string.Join(",", Joints.SelectMany(j => new[] { j + "_x", j + "_y", j + "_z" })) }.Concat(rows));
            Console.WriteLine("vmc frames {0}, schema frames {1}, errors {2}, ignored {3}", vmc.VmcFrames, schema.SchemaFrames,
                              vmc.Errors + schema.Errors, vmc.IgnoredMessages + schema.IgnoredMessages);
            VmcFrame last = vmc.LatestVmc;
            if (last != null && last.Expressions.Count > 0)
                Console.WriteLine("expressions " + string.Join(",", last.Expressions.Keys.OrderBy(k => k, StringComparer.Ordinal)));
            return vmc.Errors + schema.Errors == 0 ? 0 : 1;
        }
    }

    static int Fuzz(string samplesPath, int seed, int count)
    {
        byte[][] samples = File.ReadAllLines(samplesPath).Where(l => l.Length > 0).Select(Hex).ToArray();
        var random = new Random(seed);
        using (var receiver = new MocapReceiver(0))
        {
            for (int i = 0; i < count; i++)
            {
                byte[] data = (byte[])samples[random.Next(samples.Length)].Clone();
                int length = data.Length;
                switch (random.Next(4))
                {
                    case 0: length = random.Next(length + 1); break;                         // cut short
                    case 1: for (int k = random.Next(1, 8); k > 0; k--) data[random.Next(data.Length)] = (byte)random.Next(256); break;
                    case 2: // a type tag replaced: unknown types, blobs with wild sizes
                        int comma = Array.IndexOf(data, (byte)',');
                        if (comma >= 0 && comma + 1 < data.Length) data[comma + 1 + random.Next(Math.Min(8, data.Length - comma - 1))] = (byte)"xbhdcTNI?"[random.Next(9)];
                        break;
                    default: // a bundle element's size made wrong
                        if (data.Length > 20) { data[16] = (byte)random.Next(256); data[19] = (byte)random.Next(256); }
                        break;
                }
                receiver.Handle(data, length);
            }
            Console.WriteLine("fuzzed {0} datagrams: errors {1}, vmc frames {2}, ignored messages {3}",
                              count, receiver.Errors, receiver.VmcFrames, receiver.IgnoredMessages);
            return receiver.Errors == 0 ? 0 : 1;
        }
    }

    static byte[] Hex(string line)
    {
        var bytes = new byte[line.Length / 2];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = Convert.ToByte(line.Substring(2 * i, 2), 16);
        return bytes;
    }
}
