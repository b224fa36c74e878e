using System.Collections;
using Akka.Cluster;

namespace SocketStarter.Shared.Hosting.Membership;

/// <summary>The observer/subject records of Akka's internal reachability event, read through reflection.</summary>
public static class ReachabilityRecords
{
    public const string EventTypeName = "ReachabilityChanged";

    /// <summary>The records of an internal <c>ReachabilityChanged</c> that are not reachable; null for any other event.</summary>
    public static IReadOnlyList<DowningRules.Unreachable>? Read(object @event)
    {
        var type = @event.GetType();
        if (type.Name != EventTypeName) return null;
        var reachability = type.GetProperty("Reachability")?.GetValue(@event)
            ?? throw new InvalidOperationException($"{type.FullName} has no Reachability: Akka changed its internals");
        var records = reachability.GetType().GetProperty("Records")?.GetValue(reachability) as IEnumerable
            ?? throw new InvalidOperationException($"{reachability.GetType().FullName} has no Records: Akka changed its internals");
        var observations = new List<DowningRules.Unreachable>();
        foreach (var record in records)
        {
            var recordType = record.GetType();
            var status = recordType.GetProperty("Status")?.GetValue(record)?.ToString();
            if (status is null or "Reachable") continue;
            var observer = (UniqueAddress)recordType.GetProperty("Observer")!.GetValue(record)!;
            var subject = (UniqueAddress)recordType.GetProperty("Subject")!.GetValue(record)!;
            observations.Add(new DowningRules.Unreachable(observer.Address, subject.Address));
        }
        return observations;
    }
}
