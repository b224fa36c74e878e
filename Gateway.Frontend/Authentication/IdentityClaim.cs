namespace SocketStarter.Gateway.Frontend.Authentication;

/// <summary>
/// The frame by which a client of an application says who it is (e.g. a <c>login</c> frame and its <c>user</c> field). With
/// authentication on, that frame is passed on only with a JWT in its <c>token</c> field whose subject is the identity
/// claimed, and without the token: it goes no further than the frontend.
/// </summary>
public sealed record IdentityClaim(string FrameType, string Field);
