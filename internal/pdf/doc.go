// Package pdf reads PDF files and appends incremental updates to them.
//
// A Document is opened over an io.ReaderAt and its size; the file is never
// read whole: the cross-reference sections are parsed from the tail
// (classic tables, cross-reference streams, hybrid files, /Prev chains) and
// objects are parsed on demand from bounded windows. Object streams and
// cross-reference streams are decoded (FlateDecode, PNG predictors) with a
// bound on the decoded size. All limits (nesting depth, object size, decoded
// stream size) are enforced so that hostile input yields an error, never a
// panic or a runaway allocation.
//
// Documents encrypted with the standard security handler and an empty user
// password (RC4, AES-128, AES-256: what is written when only permissions
// are set) are read through decryption, and their updates are encrypted
// with the document's key (encrypt.go); Encryption reports the method and
// the permissions. Others are refused with CodeEncrypted.
//
// An Update collects new and changed objects and writes them after a copy of
// the original bytes, followed by a cross-reference section of the same kind
// as the last one in the file (table or stream) whose /Prev points at it, so
// that the original file is a byte-exact prefix of the output.
package pdf
