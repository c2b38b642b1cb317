using Samsa.Protocol.Generator;

namespace Samsa.Protocol.Tests.Messages;

internal static class MessageGeneratorPaths
{
    public static string Root { get; } = MessageGenerator.FindRepositoryRoot(AppContext.BaseDirectory);

    public static string SchemaDirectory => MessageGenerator.SchemaDirectory(Root);

    public static string OutputDirectory => MessageGenerator.OutputDirectory(Root);
}
