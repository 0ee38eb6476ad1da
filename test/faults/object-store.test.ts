/**
 * The ObjectStore contract (test/contract/object-store.ts) against Ceph RGW, a production S3 server that
 * enforces conditional writes: the in-memory store of the unit tests passes the same suite.
 */
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { objectStoreContract } from '../contract/object-store.ts';
import { rgwEnv } from './world.ts';

const tag = `${process.pid}-${Date.now().toString(36)}`;
let buckets = 0;

objectStoreContract('Ceph RGW', async ({ versioned }) => {
  const client = s3ClientFromEnv(rgwEnv());
  const bucket = `contract-${tag}-${++buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioned) {
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  }
  return { store: s3Store(client, bucket), versioned, enforcesCopyCondition: false };
});
