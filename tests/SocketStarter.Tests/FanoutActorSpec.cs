using System.Text;
using Akka.Actor;
using SocketStarter.Frontend.Connections;
using SocketStarter.Messages;

namespace SocketStarter.Tests;

public sealed class FanoutActorSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public void A_room_frame_reaches_each_local_member_once_in_seq_order()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var (connA, outA, connB, outB) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        fanout.Tell(new FanoutActor.Register("s1", "c1", connA, outA));
        fanout.Tell(new FanoutActor.Register("s2", "c2", connB, outB));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", "{\"type\":\"joined\"}"));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s2", null));
        Assert.Contains("joined", Encoding.UTF8.GetString(outA.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));

        fanout.Tell(new FrontendCommands.RoomFrame("lobby", 1, "{\"seq\":1}", null));
        fanout.Tell(new FrontendCommands.RoomFrame("lobby", 1, "{\"seq\":1}", null));
        fanout.Tell(new FrontendCommands.RoomFrame("lobby", 0, "{\"presence\":1}", "s2"));
        fanout.Tell(new FrontendCommands.RoomFrame("lobby", 2, "{\"seq\":2}", null));

        Assert.Equal("{\"seq\":1}", Encoding.UTF8.GetString(outA.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));
        Assert.Equal("{\"presence\":1}", Encoding.UTF8.GetString(outA.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));
        Assert.Equal("{\"seq\":2}", Encoding.UTF8.GetString(outA.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));
        Assert.Equal("{\"seq\":1}", Encoding.UTF8.GetString(outB.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));
        Assert.Equal("{\"seq\":2}", Encoding.UTF8.GetString(outB.ExpectMsg<FanoutActor.Outgoing>().Utf8.Span));
        outA.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        outB.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Acknowledgements_go_to_the_connection_that_sent_the_envelope()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var (oldConnection, newConnection) = (CreateTestProbe(), CreateTestProbe());
        fanout.Tell(new FanoutActor.Register("s1", "c1", oldConnection, CreateTestProbe()));
        fanout.Tell(new FanoutActor.Register("s1", "c2", newConnection, CreateTestProbe()));
        fanout.Tell(new FrontendCommands.Acknowledged("s1", "c1", 9));
        oldConnection.ExpectMsg<FrontendCommands.Acknowledged>(a => a.SeqNo == 9);
        newConnection.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_closed_connection_gets_no_more_room_frames()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var outbound = CreateTestProbe();
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), outbound));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", null));
        fanout.Tell(new FanoutActor.Unregister("s1", "c1"));
        fanout.Tell(new FrontendCommands.RoomFrame("lobby", 1, "{}", null));
        outbound.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
