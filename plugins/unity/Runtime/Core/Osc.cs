// OSC 1.0 parsing that never throws: a malformed or truncated packet yields what could be read
// and stops there. Arguments of known types are read (i, f, s); others are skipped by their size
// (b, h, t, d, c, r, m, T, F, N, I); an unknown type ends that message, and only that message.
using System;
using System.Collections.Generic;
using System.Text;

namespace Mocap.Receiver
{
    public sealed class OscMessage
    {
        public readonly string Address;
        public readonly object[] Args;   // int, float or string; other types are skipped

        public OscMessage(string address, object[] args) { Address = address; Args = args; }

        public int Count { get { return Args.Length; } }
        public bool IsFloat(int i) { return i < Args.Length && Args[i] is float; }
        public bool IsInt(int i) { return i < Args.Length && Args[i] is int; }
        public bool IsString(int i) { return i < Args.Length && Args[i] is string; }
        public float Float(int i) { return (float)Args[i]; }
        public int Int(int i) { return (int)Args[i]; }
        public string String(int i) { return (string)Args[i]; }
    }

    public static class Osc
    {
        const int MaxDepth = 8;   // nested bundles

        /// <summary>Every message in a packet (a message or a bundle, nested bundles included).</summary>
        public static List<OscMessage> Parse(byte[] data, int length)
        {
            var messages = new List<OscMessage>();
            if (data == null) return messages;
            ParseElement(data, 0, Math.Min(length, data.Length), messages, 0);
            return messages;
        }

        static void ParseElement(byte[] data, int start, int end, List<OscMessage> messages, int depth)
        {
            if (start >= end || depth > MaxDepth) return;
            if (data[start] == (byte)'#')
            {
                int position = start;
                string tag;
                if (!ReadString(data, ref position, end, out tag) || tag != "#bundle") return;
                position += 8;   // time tag
                while (position + 4 <= end)
                {
                    int size = ReadInt(data, position);
                    position += 4;
                    if (size <= 0 || size > end - position || size % 4 != 0) return;
                    ParseElement(data, position, position + size, messages, depth + 1);
                    position += size;
                }
            }
            else if (data[start] == (byte)'/')
            {
                OscMessage message = ParseMessage(data, start, end);
                if (message != null) messages.Add(message);
            }
        }

        static OscMessage ParseMessage(byte[] data, int start, int end)
        {
            int position = start;
            string address, tags;
            if (!ReadString(data, ref position, end, out address)) return null;
            if (position >= end) return new OscMessage(address, new object[0]);
            if (!ReadString(data, ref position, end, out tags) || tags.Length == 0 || tags[0] != ',') return null;
            var args = new List<object>();
            for (int t = 1; t < tags.Length; t++)
            {
                switch (tags[t])
                {
                    case 'i':
                        if (position + 4 > end) return null;
                        args.Add(ReadInt(data, position)); position += 4; break;
                    case 'f':
                        if (position + 4 > end) return null;
                        args.Add(ReadFloat(data, position)); position += 4; break;
                    case 's': case 'S':
                        string text;
                        if (!ReadString(data, ref position, end, out text)) return null;
                        args.Add(text); break;
                    case 'b':
                        if (position + 4 > end) return null;
                        int size = ReadInt(data, position);
                        if (size < 0 || size > end - position - 4) return null;
                        position += 4 + ((size + 3) & ~3); break;
                    case 'h': case 't': case 'd':
                        position += 8; break;
                    case 'c': case 'r': case 'm':
                        position += 4; break;
                    case 'T': case 'F': case 'N': case 'I': case '[': case ']':
                        break;
                    default:
                        return null;   // an unknown type: its size is unknown, so the rest cannot be trusted
                }
                if (position > end) return null;
            }
            return new OscMessage(address, args.ToArray());
        }

        static bool ReadString(byte[] data, ref int position, int end, out string text)
        {
            text = null;
            int zero = position;
            while (zero < end && data[zero] != 0) zero++;
            if (zero >= end) return false;
            text = Encoding.UTF8.GetString(data, position, zero - position);
            position = (zero + 4) & ~3;
            return position <= end;
        }

        static int ReadInt(byte[] data, int position)
        {
            return (data[position] << 24) | (data[position + 1] << 16) | (data[position + 2] << 8) | data[position + 3];
        }

        static float ReadFloat(byte[] data, int position)
        {
            var bytes = new byte[] { data[position + 3], data[position + 2], data[position + 1], data[position] };
            if (!BitConverter.IsLittleEndian) Array.Reverse(bytes);
            return BitConverter.ToSingle(bytes, 0);
        }
    }
}
