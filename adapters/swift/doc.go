// Package swift is a blob.Store on OpenStack Swift with ncw/swift.
//
// Content smaller than one buffer is hashed in memory and written straight to its
// address. Larger content is streamed (chunked transfer, constant memory) to a temporary
// object, copied server-side to its BLAKE3 address, and the temporary object is deleted.
// Objects are plain Swift objects, so one is at most the cluster's max_file_size (5 GiB by
// default); a crash can leave temporary objects under Prefix+"tmp/".
//
// It imports the blob contract, blob/storecfg for secrets, and ncw/swift, never another
// adapter; client errors are translated here and their types never escape.
package swift
