#!/usr/bin/env bash
# ncruces-suite.sh: run github.com/ncruces/go-sqlite3's own test suites
# with walguard in place of the os VFS, to check the claim that walguard
# changes nothing SQLite can observe when every connection agrees.
#
# It copies the ncruces module (the version walguard's go.mod requires)
# from the module cache into a temporary directory. ncruces reserves the
# name "os" (vfs.Register ignores it, vfs.Find always answers its own os
# VFS), so the copy gets a hook: vfs.Find("os") answers an override when
# one is set. Each package tested gets one test file whose init sets
# walguard, over the original os VFS, as that override; every connection
# that opens a database the default way then goes through walguard. The
# copy's go.mod points at this checkout, and go test runs there. Nothing of
# ncruces is kept.
#
# Usage: bench/ncruces-suite.sh                 the root package and tests/..., vfs/tests, vfs/tests/mptest
#        bench/ncruces-suite.sh ./vfs/tests/...  other packages of the ncruces module
#        WALGUARD_POLICY=downgrade bench/ncruces-suite.sh   with policy.DowngradeWhenAlone
#        BASELINE=1 bench/ncruces-suite.sh   the same copy on the plain os VFS, to compare
# The deviations expected over walguard, and why, are in docs/design.md
# ("ncruces/go-sqlite3's own tests over walguard").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(go list -m -f '{{.Version}}' github.com/ncruces/go-sqlite3)
src=$(go env GOMODCACHE)/github.com/ncruces/go-sqlite3@$version
if [ ! -d "$src" ]; then
	go mod download github.com/ncruces/go-sqlite3
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src" "$work/ncruces"
chmod -R u+w "$work/ncruces"
cd "$work/ncruces"

pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	pkgs=(. ./tests/... ./vfs/tests ./vfs/tests/mptest)
fi

policy='nil'
if [ "${WALGUARD_POLICY:-}" = downgrade ]; then
	policy='func() *policy.Policy { p := policy.Default(); p.DowngradeWhenAlone = true; return &p }()'
fi

if [ "${BASELINE:-}" != 1 ]; then
	cat > vfs/zz_walguard_override.go <<'GO'
package vfs

import "sync/atomic"

var osOverride atomic.Pointer[VFS]

// OverrideOS makes Find("os") answer v: added by walguard's
// bench/ncruces-suite.sh to a temporary copy, never part of ncruces.
func OverrideOS(v VFS) { osOverride.Store(&v) }
GO
	# Find("" or "os") returns vfsOS{}; let it return the override instead.
	perl -0pi -e 's/(if name == "" \|\| name == "os" \{\n)(\t\treturn vfsOS\{\})/$1\t\tif o := osOverride.Load(); o != nil {\n\t\t\treturn *o\n\t\t}\n$2/' vfs/registry.go
	grep -q osOverride.Load vfs/registry.go || { echo "ncruces-suite.sh: could not hook vfs.Find in this ncruces version" >&2; exit 2; }
fi

for p in "${pkgs[@]}"; do
	[ "${BASELINE:-}" = 1 ] && break
	for dir in $(go list -f '{{.Dir}}' "$p"); do
		name=$(go list -f '{{.Name}}' "$dir")
		cat > "$dir/zz_walguard_test.go" <<GO
package ${name}_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

var _ = policy.Default

// walguard in place of the os VFS, for every test of this package.
func init() {
	base := vfs.Find("os")
	vfs.OverrideOS(wgvfs.New(wgvfs.Options{Base: base, Policy: $policy}))
}

// TestWalguardInPlace proves the override: a database opened the default
// way answers walguard's status pragma.
func TestWalguardInPlace(t *testing.T) {
	c, err := sqlite3.Open(filepath.Join(t.TempDir(), "probe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stmt, _, err := c.Prepare("PRAGMA walguard_status")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() || !strings.Contains(stmt.ColumnText(0), \`"sidecar"\`) {
		t.Fatalf("the default VFS is not walguard: %v", stmt.Err())
	}
}
GO
	done
done

# Modules only the ncruces extensions and examples these packages do not
# build need; one of them is not on the module proxy.
go mod edit -dropreplace=github.com/segmentio/go-hll \
	-droprequire=github.com/segmentio/go-hll -droprequire=github.com/twmb/murmur3 \
	-droprequire=github.com/dchest/siphash -droprequire=github.com/google/uuid \
	-droprequire=github.com/psanford/httpreadat
go mod edit -require=github.com/walguard/walguard@v0.0.0 -replace=github.com/walguard/walguard="$root"
GOFLAGS=-mod=mod go test -count=1 ${GOTESTFLAGS:-} "${pkgs[@]}"
