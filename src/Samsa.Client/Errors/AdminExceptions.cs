using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>TOPIC_ALREADY_EXISTS: a topic of that name exists.</summary>
/// <param name="message">What failed and what to do.</param>
public sealed class TopicExistsException(string message) : KafkaException(ErrorCode.TopicAlreadyExists, message);

/// <summary>UNKNOWN_TOPIC_OR_PARTITION: no such topic or partition.</summary>
/// <param name="message">What failed and what to do.</param>
public sealed class UnknownTopicException(string message) : KafkaException(ErrorCode.UnknownTopicOrPartition, message);

/// <summary>INVALID_PARTITIONS: a partition count below one, or one that would shrink a topic.</summary>
/// <param name="message">What failed and what to do.</param>
public sealed class InvalidPartitionsException(string message) : KafkaException(ErrorCode.InvalidPartitions, message);

/// <summary>The group has active members; Kafka only lets you change or delete an empty group's offsets.</summary>
/// <param name="message">What failed and what to do.</param>
public sealed class GroupNotEmptyException(string message) : KafkaException(ErrorCode.NonEmptyGroup, message);

/// <summary>GROUP_ID_NOT_FOUND: no such group.</summary>
/// <param name="message">What failed and what to do.</param>
public sealed class GroupNotFoundException(string message) : KafkaException(ErrorCode.GroupIdNotFound, message);
