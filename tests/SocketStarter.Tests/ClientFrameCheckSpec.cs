using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Tests;

public sealed class ClientFrameCheckSpec
{
    [Theory]
    [InlineData("""{"type":"say","room":"lobby","text":"hi"}""", "say")]
    [InlineData("""{"text":"\ud83d\ude00","type":"say"}""", "say")]
    [InlineData("""{"nested":{"type":"inner"},"type":"join"}""", "join")]
    public void A_json_object_with_a_string_type_passes(string frame, string type) =>
        Assert.Equal(type, ClientFrameCheck.Type(frame, out _));

    [Theory]
    [InlineData("""{"type":"say","id":"c-17","text":"hi"}""", "c-17")]
    [InlineData("""{"type":"say","meta":{"id":"inner"},"id":"outer"}""", "outer")]
    [InlineData("""{"type":"say","text":"no id"}""", null)]
    [InlineData("""{"type":"say","id":17}""", null)]
    public void A_refused_frame_is_named_by_its_own_top_level_id(string frame, string? id) =>
        Assert.Equal(id, ClientFrameCheck.Id(frame));

    [Theory]
    [InlineData("[1]")]
    [InlineData("""{"type":1}""")]
    [InlineData("""{"text":"no type"}""")]
    [InlineData("""{"type":"say"} trailing""")]
    [InlineData("not json")]
    public void Anything_else_is_not_a_frame(string frame)
    {
        Assert.Null(ClientFrameCheck.Type(frame, out var problem));
        Assert.Equal(ClientFrameCheck.NotAnObject, problem);
    }

    [Theory]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"say","text":"a\udc00"}""")]
    [InlineData("""{"type":"say","deep":[{"\udfff":1}]}""")]
    public void A_lone_surrogate_anywhere_is_refused_as_no_text(string frame)
    {
        Assert.Null(ClientFrameCheck.Type(frame, out var problem));
        Assert.Equal(ClientFrameCheck.NotText, problem);
    }
}
