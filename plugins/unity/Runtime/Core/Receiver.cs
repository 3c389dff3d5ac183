// A UDP receive loop on its own thread that nothing a sender does can stop: every datagram is
// parsed and decoded inside its own try, and the newest complete frame is kept for the engine's
// thread to read (Unity's API may only be used from the main thread).
using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Mocap.Receiver
{
    public sealed class MocapReceiver : IDisposable
    {
        readonly UdpClient client;
        readonly Thread thread;
        readonly VmcDecoder vmc = new VmcDecoder();
        readonly SchemaDecoder schema;
        readonly object gate = new object();
        volatile bool running = true;
        VmcFrame latestVmc;
        SchemaFrame latestSchema;

        public int Datagrams;         // received
        public int Errors;            // datagrams whose handling failed (should stay 0)
        public event Action<VmcFrame> VmcFrameReceived;        // on the receive thread
        public event Action<SchemaFrame> SchemaFrameReceived;  // on the receive thread

        /// <param name="port">The UDP port to listen on (VMC: 39539; plain schema: 39540).</param>
        /// <param name="schemaAxes">The --osc-axes mocap sends the plain schema in.</param>
        public MocapReceiver(int port, string schemaAxes = "unity")
        {
            schema = new SchemaDecoder(schemaAxes);
            client = new UdpClient(new IPEndPoint(IPAddress.Any, port));
            client.Client.ReceiveBufferSize = 1 << 20;
            thread = new Thread(Loop) { IsBackground = true, Name = "mocap receiver " + port };
            thread.Start();
        }

        public int Port { get { return ((IPEndPoint)client.Client.LocalEndPoint).Port; } }
        public int VmcFrames { get { return vmc.Frames; } }
        public int SchemaFrames { get { return schema.Frames; } }
        public int IgnoredMessages { get { return vmc.Ignored + schema.Ignored; } }

        /// <summary>The newest complete VMC frame (null before the first).</summary>
        public VmcFrame LatestVmc { get { lock (gate) return latestVmc; } }

        /// <summary>The newest complete plain-schema frame (null before the first).</summary>
        public SchemaFrame LatestSchema { get { lock (gate) return latestSchema; } }

        void Loop()
        {
            var from = new IPEndPoint(IPAddress.Any, 0);
            while (running)
            {
                byte[] datagram;
                try { datagram = client.Receive(ref from); }
                catch (SocketException) { continue; }        // e.g. ICMP port unreachable reported on Windows
                catch (ObjectDisposedException) { return; }  // closed
                Handle(datagram, datagram.Length);
            }
        }

        /// <summary>Decodes one datagram; public so that tests can feed it bytes directly.</summary>
        public void Handle(byte[] datagram, int length)
        {
            Interlocked.Increment(ref Datagrams);
            try
            {
                foreach (OscMessage message in Osc.Parse(datagram, length))
                {
                    VmcFrame v = vmc.Apply(message);
                    if (v != null) { lock (gate) latestVmc = v; if (VmcFrameReceived != null) VmcFrameReceived(v); }
                    SchemaFrame s = schema.Apply(message);
                    if (s != null) { lock (gate) latestSchema = s; if (SchemaFrameReceived != null) SchemaFrameReceived(s); }
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref Errors);   // a handler's bug must not end the loop either
            }
        }

        public void Dispose()
        {
            running = false;
            client.Close();
        }
    }
}
