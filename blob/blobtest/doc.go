// Package blobtest is the conformance suite every blob.Store passes: adapters call Run from
// their tests with a constructor of empty, isolated stores and the Features that describe
// what differs between backends. It imports blob, domain and the standard library only.
package blobtest
