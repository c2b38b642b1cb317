// kafkajs 2.2.4's transactional producer against a Samsa broker: one transaction over three
// partitions with offsets sent for a group, committed; a second one aborted.
// Usage: node transactions.js host:port topic group
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic, groupId] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'samsa-js-tx', brokers: [broker], logLevel: logLevel.ERROR });
  const producer = kafka.producer({ transactionalId: 'js-tx', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  const committed = await producer.transaction();
  await committed.send({ topic, messages: [0, 1, 2, 3, 4, 5].map(i => ({ partition: i % 3, key: 'k', value: `js-c${i}` })) });
  await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '2' }] }] });
  await committed.commit();

  const aborted = await producer.transaction();
  await aborted.send({ topic, messages: [0, 1, 2].map(i => ({ partition: i, key: 'k', value: `js-a${i}` })) });
  await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '9' }] }] });
  await aborted.abort();

  await producer.disconnect();
  console.log('ok');
}

main().catch(e => { console.error(e); process.exit(1); });
