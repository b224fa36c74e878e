using Microsoft.Extensions.FileProviders;

namespace SocketStarter.Frontend;

public static class ClientFiles
{
    /// <summary>
    /// Serves the browser client at <c>/</c>, same origin as <c>/ws</c>: CLIENT_DIR if set, else the built
    /// client (client/dist) or the client folder itself, looked up from the working directory.
    /// </summary>
    public static WebApplication UseClientFiles(this WebApplication app, IConfiguration configuration)
    {
        var folder = configuration["CLIENT_DIR"] is { Length: > 0 } configured
            ? configured
            : new[] { Path.Combine("client", "dist"), "client" }.FirstOrDefault(f => File.Exists(Path.Combine(f, "index.html")));
        if (folder is null || !Directory.Exists(folder))
        {
            app.Logger.LogWarning("No client files found (set CLIENT_DIR); only /ws is served");
            return app;
        }
        var files = new PhysicalFileProvider(Path.GetFullPath(folder));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        return app;
    }
}
