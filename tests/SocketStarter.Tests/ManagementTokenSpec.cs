using Microsoft.Extensions.Configuration;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Tests;

public sealed class ManagementTokenSpec
{
    [Fact]
    public async Task Nodes_starting_at_once_all_serve_the_token_that_ssctl_finds_in_the_file()
    {
        for (var round = 0; round < 20; round++)
        {
            var folder = Directory.CreateTempSubdirectory("socketstarter-token-");
            try
            {
                var file = Path.Combine(folder.FullName, "data", "management.token");
                var configuration = new ConfigurationBuilder()
                    .AddInMemoryCollection(new Dictionary<string, string?> { ["MANAGEMENT_TOKEN_FILE"] = file }).Build();
                var tokens = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => ManagementToken.ForNode(configuration))));

                var written = File.ReadAllText(file).Trim();
                Assert.All(tokens, token => Assert.Equal(written, token));
                if (!OperatingSystem.IsWindows())
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }
    }
}
