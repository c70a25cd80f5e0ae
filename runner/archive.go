package runner

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/stratahq/strata/domain"
)

// ArchiveLimits bound what Unpack writes. Zero values take their defaults.
type ArchiveLimits struct {
	// MaxBytes is the most file content an archive may unpack to; default 1 GiB.
	MaxBytes int64
	// MaxFiles is the most entries (files, directories, links) it may hold; default 100,000.
	MaxFiles int
}

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 30
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 100_000
	}
	return l
}

// ErrUnsafeArchive: an archive holds an entry that would land outside the directory it
// is unpacked into (an absolute path, a .. component, a symbolic link leaving the
// directory or an entry under one), an entry of a kind we do not unpack (hard links,
// devices, pipes), or more than its limits allow.
var ErrUnsafeArchive = fmt.Errorf("unsafe archive: %w", domain.ErrInvalid)

// Unpack unpacks the archive r (a tar, a gzip-compressed tar or a zip, told apart by
// their first bytes) into dir, which must exist. It writes nothing outside dir: an entry
// that would, or anything over lim, stops it with an error matching ErrUnsafeArchive,
// and what was unpacked until then stays. Regular files get mode 0644, or 0755 when the
// archive marks them executable; symbolic links are made last and only when they point
// inside dir. Cancelling ctx stops it between entries.
func Unpack(ctx context.Context, r io.Reader, dir string, lim ArchiveLimits) error {
	lim = lim.withDefaults()
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("unpack into %s: %w", dir, err)
	}
	u := &unpacker{ctx: ctx, root: root, lim: lim}
	br := bufio.NewReader(r)
	head, _ := br.Peek(4) // a short archive is told apart as well as it can be
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("unpack: gzip: %w", err)
		}
		if err := u.tar(zr); err != nil {
			return err
		}
		if err := zr.Close(); err != nil {
			return fmt.Errorf("unpack: gzip: %w", err)
		}
	case bytes.Equal(head, []byte("PK\x03\x04")) || bytes.Equal(head, []byte("PK\x05\x06")):
		if err := u.zip(br); err != nil {
			return err
		}
	default:
		if err := u.tar(br); err != nil {
			return err
		}
	}
	return u.links()
}

type unpacker struct {
	ctx     context.Context
	root    string // dir, with its own symbolic links resolved
	lim     ArchiveLimits
	files   int
	bytes   int64
	symlink []pendingLink
}

type pendingLink struct{ name, target string }

func unsafeArchive(name, why string) error {
	return fmt.Errorf("unpack %q: %s: %w", name, why, ErrUnsafeArchive)
}

// streamLimit bounds the decompressed stream as well as the content, so that headers
// (long names, pax records) cannot make an archive unbounded either.
func (u *unpacker) streamLimit() int64 {
	return u.lim.MaxBytes + int64(u.lim.MaxFiles)*8<<10 + 1<<20
}

func (u *unpacker) tar(r io.Reader) error {
	lr := &io.LimitedReader{R: r, N: u.streamLimit()}
	tr := tar.NewReader(lr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if lr.N <= 0 {
			return unsafeArchive("", "archive larger than the limit")
		}
		if err != nil {
			return fmt.Errorf("unpack: tar: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader: // git archive puts the commit id here
			continue
		case tar.TypeDir:
			err = u.dir(h.Name)
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archivers still write TypeRegA
			err = u.file(h.Name, h.Mode, h.Size, tr)
		case tar.TypeSymlink:
			err = u.link(h.Name, h.Linkname)
		default:
			err = unsafeArchive(h.Name, fmt.Sprintf("entry type %q is not unpacked", h.Typeflag))
		}
		if err != nil {
			return err
		}
	}
}

func (u *unpacker) zip(r io.Reader) error {
	// zip needs random access: spool it to a temporary file, within the limit.
	tmp, err := os.CreateTemp("", "strata-unpack-*.zip")
	if err != nil {
		return fmt.Errorf("unpack: zip: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	n, err := io.Copy(tmp, io.LimitReader(r, u.streamLimit()+1))
	if err != nil {
		return fmt.Errorf("unpack: zip: %w", err)
	}
	if n > u.streamLimit() {
		return unsafeArchive("", "archive larger than the limit")
	}
	zr, err := zip.NewReader(tmp, n)
	if err != nil {
		return fmt.Errorf("unpack: zip: %w", err)
	}
	for _, f := range zr.File {
		if err := u.zipEntry(f); err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacker) zipEntry(f *zip.File) error {
	mode := f.Mode()
	switch {
	case mode.IsDir():
		return u.dir(f.Name)
	case mode&fs.ModeSymlink != 0:
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("unpack %q: %w", f.Name, err)
		}
		target, err := io.ReadAll(io.LimitReader(rc, 4096))
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("unpack %q: %w", f.Name, err)
		}
		return u.link(f.Name, string(target))
	case mode.IsRegular():
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("unpack %q: %w", f.Name, err)
		}
		err = u.file(f.Name, int64(mode.Perm()), int64(f.UncompressedSize64), rc) //nolint:gosec // checked against the limit in file
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("unpack %q: %w", f.Name, cerr)
		}
		return err
	}
	return unsafeArchive(f.Name, fmt.Sprintf("entry mode %s is not unpacked", mode))
}

// entry checks name and counts it, and returns the path to write it at: one whose parent
// directories are real directories inside root (none of them a symbolic link).
func (u *unpacker) entry(name string) (rel, full string, err error) {
	if err := u.ctx.Err(); err != nil {
		return "", "", fmt.Errorf("unpack: %w", err)
	}
	u.files++
	if u.files > u.lim.MaxFiles {
		return "", "", unsafeArchive(name, fmt.Sprintf("more than %d entries", u.lim.MaxFiles))
	}
	if name == "" || strings.ContainsAny(name, "\x00\\") || path.IsAbs(name) || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", "", unsafeArchive(name, "not a relative path")
	}
	rel = path.Clean(name)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", "", unsafeArchive(name, "path leaves the directory")
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", "", unsafeArchive(name, "path has a .. component")
		}
	}
	full = filepath.Join(u.root, filepath.FromSlash(rel))
	if rel != "." {
		if err := u.mkdirs(path.Dir(rel)); err != nil {
			return "", "", err
		}
	}
	return rel, full, nil
}

// mkdirs makes the directories of rel one by one, refusing any that exists as something
// other than a directory (a symbolic link in particular).
func (u *unpacker) mkdirs(rel string) error {
	if rel == "." {
		return nil
	}
	p := u.root
	for _, c := range strings.Split(rel, "/") {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("unpack %q: %w", rel, err)
			}
		case err != nil:
			return fmt.Errorf("unpack %q: %w", rel, err)
		case !fi.IsDir():
			return unsafeArchive(rel, "a parent is not a directory")
		}
	}
	return nil
}

func (u *unpacker) dir(name string) error {
	rel, _, err := u.entry(name)
	if err != nil {
		return err
	}
	return u.mkdirs(rel)
}

func (u *unpacker) file(name string, mode, size int64, r io.Reader) error {
	_, full, err := u.entry(name)
	if err != nil {
		return err
	}
	if size < 0 || size > u.lim.MaxBytes-u.bytes {
		return unsafeArchive(name, fmt.Sprintf("content over the limit of %d bytes", u.lim.MaxBytes))
	}
	if fi, err := os.Lstat(full); err == nil && !fi.Mode().IsRegular() {
		return unsafeArchive(name, "exists and is not a regular file")
	}
	perm := os.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("unpack %q: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unpack %q: %w", name, err)
	}
	if n != size {
		return unsafeArchive(name, fmt.Sprintf("content is %d bytes, header says %d", n, size))
	}
	u.bytes += n
	return os.Chmod(full, perm) // an earlier entry of the same name may have had another mode
}

// link checks a symbolic link; it is made by links, after every file, so that no file is
// written through it.
func (u *unpacker) link(name, target string) error {
	rel, _, err := u.entry(name)
	if err != nil {
		return err
	}
	if rel == "." || target == "" || path.IsAbs(target) || filepath.IsAbs(target) || strings.ContainsAny(target, "\x00\\") {
		return unsafeArchive(name, fmt.Sprintf("symbolic link to %q leaves the directory", target))
	}
	// The target may climb (..) only at its start: from the link's parent, a real
	// directory, that is exact. A .. after a name could climb out of another link.
	climbing := true
	for _, c := range strings.Split(target, "/") {
		if c != ".." {
			climbing = false
		} else if !climbing {
			return unsafeArchive(name, fmt.Sprintf("symbolic link to %q has a .. after a name", target))
		}
	}
	if t := path.Join(path.Dir(rel), target); t == ".." || strings.HasPrefix(t, "../") {
		return unsafeArchive(name, fmt.Sprintf("symbolic link to %q leaves the directory", target))
	}
	u.symlink = append(u.symlink, pendingLink{name: rel, target: target})
	return nil
}

// links makes the symbolic links. Their parents are checked again: a directory an entry
// made may since have been replaced by nothing, but never by a link (links are made only
// here, and mkdirs refuses to go through one).
func (u *unpacker) links() error {
	for _, l := range u.symlink {
		if err := u.mkdirs(path.Dir(l.name)); err != nil {
			return err
		}
		full := filepath.Join(u.root, filepath.FromSlash(l.name))
		if _, err := os.Lstat(full); err == nil {
			return unsafeArchive(l.name, "symbolic link over an existing entry")
		}
		if err := os.Symlink(l.target, full); err != nil {
			return fmt.Errorf("unpack %q: %w", l.name, err)
		}
	}
	return nil
}
