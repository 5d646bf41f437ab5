// Package doccheck holds no code: its test compiles every Go code block of
// the repository's README.md and docs/*.md, so that a snippet a reader
// copies compiles as written.
//
// A block tagged go is either a whole file (it starts with "package") or a
// fragment: import declarations first, then statements, which the test
// places in a function body (or, if they are declarations, at file level).
// A fragment must declare what it uses; variables it declares and leaves
// unused are allowed, as in any excerpt. A block without a language tag that
// looks like Go fails the test: tag it go.
package doccheck
