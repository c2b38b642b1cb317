using System.Reflection;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Metrics;

/// <summary>
/// The top-level error code of a response, for the request counter. Generated responses share no
/// interface for it, so each api's getter is found by reflection once, at start, and called as a
/// delegate afterwards; apis whose responses carry errors only deeper down report NONE here.
/// </summary>
internal static class ResponseErrors
{
    private static readonly Func<IResponse, ErrorCode>?[] Getters = Build();

    public static ErrorCode TopLevel(ApiKey api, IResponse response) =>
        (uint)api < (uint)Getters.Length && Getters[(int)api] is { } get ? get(response) : ErrorCode.None;

    private static Func<IResponse, ErrorCode>?[] Build()
    {
        var getters = new Func<IResponse, ErrorCode>?[ApiMessages.Keys.Max(k => (int)k) + 1];
        // Native AOT has no code generation and keeps no property metadata for this: there the counter's
        // error label stays NONE (the branch is removed when the app is compiled ahead of time).
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            return getters;
        var typed = typeof(ResponseErrors).GetMethod(nameof(Typed), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var key in ApiMessages.Keys)
        {
            var type = ApiMessages.CreateResponse(key).GetType();
            if (type.GetProperty("ErrorCode", typeof(ErrorCode))?.GetMethod is { } getter)
                getters[(int)key] = (Func<IResponse, ErrorCode>)typed.MakeGenericMethod(type).Invoke(null, [getter])!;
        }
        return getters;
    }

    private static Func<IResponse, ErrorCode> Typed<T>(MethodInfo getter)
        where T : IResponse
    {
        var get = getter.CreateDelegate<Func<T, ErrorCode>>();
        return response => get((T)response);
    }
}
