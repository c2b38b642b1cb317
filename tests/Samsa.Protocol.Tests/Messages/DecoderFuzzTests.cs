using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>
/// Random and mutated bytes must decode or fail with ProtocolException, never anything else (no
/// IndexOutOfRange, no OutOfMemory, no hang on a huge declared length).
/// </summary>
public class DecoderFuzzTests
{
    public static IEnumerable<object[]> Types() => MessageCatalog.MessageTypes.Select(t => new object[] { t.Name });

    [Theory]
    [MemberData(nameof(Types))]
    public void Mutated_and_random_frames_fail_only_with_protocol_errors(string typeName)
    {
        var type = MessageCatalog.ByName(typeName);
        var random = new Random(typeName.Length * 31 + typeName[0]);
        short low = MessageCatalog.Lowest(type), high = MessageCatalog.Highest(type);
        int rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            short version = (short)random.Next(low, high + 1);
            byte[] valid = MessageCatalog.Encode((IMessage)new MessageFiller(i).Fill(type), version);
            byte[] input = Mutate(valid, random);
            try
            {
                MessageCatalog.Decode(type, input, version);
            }
            catch (ProtocolException)
            {
                rejected++;
            }
        }
        // Any other exception has already failed the test; this checks the mutations bite at all.
        Assert.True(rejected > 0, "no mutated input was rejected");
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                return valid.AsSpan(0, random.Next(valid.Length + 1)).ToArray();
            case 1:
            {
                var copy = (byte[])valid.Clone();
                for (int k = 0; k < 1 + random.Next(4) && copy.Length > 0; k++)
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                return copy;
            }
            case 2:
            {
                // A length or count field turned huge or negative.
                var copy = (byte[])valid.Clone();
                if (copy.Length >= 4)
                {
                    int at = random.Next(copy.Length - 3);
                    copy[at] = random.Next(2) == 0 ? (byte)0x7F : (byte)0xFF;
                    copy[at + 1] = 0xFF;
                }
                return copy;
            }
            case 3:
            {
                var bytes = new byte[random.Next(64)];
                random.NextBytes(bytes);
                return bytes;
            }
            default:
            {
                var copy = new byte[valid.Length + 8];
                valid.CopyTo(copy, 0);
                for (int k = valid.Length; k < copy.Length; k++)
                    copy[k] = 0xFF;
                return copy;
            }
        }
    }
}
