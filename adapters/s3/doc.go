// Package s3 is a blob.Store on Amazon S3 or any S3-compatible server (versitygw, MinIO,
// Ceph RGW), with aws-sdk-go-v2.
//
// Content smaller than one part is hashed in memory and written straight to its address.
// Larger content is streamed as a multipart upload to a temporary key (one part buffer in
// memory at a time), then copied server-side to its BLAKE3 address, which only hashing the
// whole stream reveals, and the temporary key is deleted. A crash can leave temporary
// objects under Prefix+"tmp/"; a bucket lifecycle rule on that prefix cleans them up.
//
// It imports the blob contract, blob/storecfg for secrets, and the AWS SDK, never another
// adapter; SDK errors are translated here and their types never escape.
package s3
