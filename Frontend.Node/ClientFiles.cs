using Microsoft.Extensions.FileProviders;

namespace SocketStarter.Frontend;

public static class ClientFiles
{
    /// <summary>
    /// Serves the browser client at <c>/</c>, same origin as <c>/ws</c>: CLIENT_DIR if set, else the built
    /// client, client/dist under the working directory (./run.sh builds it).
    /// </summary>
    public static WebApplication UseClientFiles(this WebApplication app, IConfiguration configuration)
    {
        var folder = configuration["CLIENT_DIR"] is { Length: > 0 } configured
            ? configured
            : Path.Combine("client", "dist");
        if (!File.Exists(Path.Combine(folder, "index.html")))
        {
            app.Logger.LogWarning("No built client in {Folder} (run ./run.sh, or set CLIENT_DIR); only /ws is served", Path.GetFullPath(folder));
            return app;
        }
        return app.ServeFolder(Path.GetFullPath(folder), requestPath: "");
    }

    /// <summary>An application's own page at <paramref name="path"/>, from <paramref name="folder"/> beside the node's binaries
    /// (the application's project copies it there).</summary>
    public static WebApplication UseApplicationPage(this WebApplication app, string path, string folder) =>
        app.ServeFolder(Path.Combine(AppContext.BaseDirectory, folder), requestPath: path);

    /// <summary>The files of <paramref name="folder"/> at <paramref name="requestPath"/>, index.html for the folder itself.</summary>
    private static WebApplication ServeFolder(this WebApplication app, string folder, string requestPath)
    {
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = requestPath });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = requestPath });
        return app;
    }
}
