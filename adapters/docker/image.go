package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/stratahq/strata/domain"
)

// Defaults of BuildBusybox: the tag the examples run in, and where Debian's
// busybox-static puts its binary.
const (
	BusyboxTag  = "strata/busybox:latest"
	BusyboxPath = "/usr/bin/busybox"
)

// ErrBuild: the daemon reported a failed image build.
var ErrBuild = errors.New("image build failed")

// ErrNoBusybox: the busybox binary to build the image from is missing, or is not the
// statically linked one (a dynamic busybox cannot run in an image FROM scratch).
var ErrNoBusybox = fmt.Errorf("no static busybox (install it: apt-get install busybox-static): %w", domain.ErrInvalid)

// BuiltImage is an image BuildBusybox built.
type BuiltImage struct {
	ID  string // sha256:<hex>
	Tag string
}

// busyboxDockerfile puts busybox at /bin/busybox, links every applet into /bin (sh, awk,
// sed, ...) and makes /tmp; building it runs one step in the image, without network.
const busyboxDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && /bin/busybox mkdir -m 1777 /tmp"]
`

// BuildBusybox builds a tiny image FROM scratch with the static busybox at busyboxPath
// (BusyboxPath if empty) and tags it tag (BusyboxTag if empty): the image Strata's
// examples and tests run in, built locally since no registry needs to be reachable.
// Building it again reuses the daemon's build cache.
func (l *Launcher) BuildBusybox(ctx context.Context, tag, busyboxPath string) (BuiltImage, error) {
	if tag == "" {
		tag = BusyboxTag
	}
	if busyboxPath == "" {
		busyboxPath = BusyboxPath
	}
	bin, err := readStaticBusybox(busyboxPath)
	if err != nil {
		return BuiltImage{}, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(busyboxDockerfile)}, {"busybox", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return BuiltImage{}, fmt.Errorf("build %s: %w", tag, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return BuiltImage{}, fmt.Errorf("build %s: %w", tag, err)
		}
	}
	if err := tw.Close(); err != nil {
		return BuiltImage{}, fmt.Errorf("build %s: %w", tag, err)
	}
	res, err := l.cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true, NetworkMode: "none"})
	if err != nil {
		return BuiltImage{}, fmt.Errorf("build %s: %w", tag, err)
	}
	defer res.Body.Close() //nolint:errcheck // read only; a read error is reported
	if err := buildError(res.Body); err != nil {
		return BuiltImage{}, fmt.Errorf("build %s: %w", tag, err)
	}
	img, err := l.cli.ImageInspect(ctx, tag)
	if err != nil {
		return BuiltImage{}, fmt.Errorf("build %s: inspect the result: %w", tag, err)
	}
	return BuiltImage{ID: img.ID, Tag: tag}, nil
}

// readStaticBusybox reads the busybox binary at path and checks that it is a statically
// linked ELF executable.
func readStaticBusybox(path string) ([]byte, error) {
	bin, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not found: %w", path, ErrNoBusybox)
	} else if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return nil, fmt.Errorf("%s: not an executable (%v): %w", path, err, ErrNoBusybox)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("%s is dynamically linked: %w", path, ErrNoBusybox)
		}
	}
	return bin, nil
}

// buildError reads a build's JSON message stream to its end and returns the error it
// reports, with the build's last output lines for context.
func buildError(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			tail = append(tail[max(0, len(tail)-4):], s)
		}
		if m.Error != nil {
			return fmt.Errorf("%w: %s (build output: %s)", ErrBuild, m.Error.Message, strings.Join(tail, " | "))
		}
	}
}
