using System.Reflection;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>Every generated top-level message type, with reflection-based encode/decode for tests.</summary>
internal static class MessageCatalog
{
    public static IReadOnlyList<Type> MessageTypes { get; } = typeof(IMessage).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsNested: false, Namespace: "Samsa.Protocol.Messages" }
            && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IMessage<>)))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    public static short Lowest(Type t) => (short)t.GetProperty("LowestVersion", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public static short Highest(Type t) => (short)t.GetProperty("HighestVersion", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public static IEnumerable<object[]> AllTypeVersions() =>
        MessageTypes.SelectMany(t => Enumerable.Range(Lowest(t), Highest(t) - Lowest(t) + 1).Select(v => new object[] { t.Name, (short)v }));

    public static Type ByName(string name) => MessageTypes.Single(t => t.Name == name);

    public static byte[] Encode(IMessage message, short version)
    {
        using var buffer = new PooledBufferWriter();
        var writer = new ProtocolWriter(buffer);
        message.Write(ref writer, version);
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly MethodInfo DecodeGeneric = typeof(MessageCatalog).GetMethod(nameof(DecodeCore), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Decodes and returns the message and the bytes left unread.</summary>
    public static (IMessage Message, int Unread) Decode(Type type, byte[] bytes, short version)
    {
        try
        {
            return ((IMessage, int))DecodeGeneric.MakeGenericMethod(type).Invoke(null, [bytes, version])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static (IMessage, int) DecodeCore<T>(byte[] bytes, short version)
        where T : IMessage<T>
    {
        var reader = new ProtocolReader(bytes);
        var message = T.Read(ref reader, version);
        return (message, reader.Remaining);
    }
}
