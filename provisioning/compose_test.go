package provisioning

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The repository root, seen from this package's directory (where go test runs).
const root = ".."

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       any                          `yaml:"build"`
	Command     []string                     `yaml:"command"`
	Restart     string                       `yaml:"restart"`
	Profiles    []string                     `yaml:"profiles"`
	Environment map[string]string            `yaml:"environment"`
	Volumes     []string                     `yaml:"volumes"`
	Ports       []string                     `yaml:"ports"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

// composeRef is Compose's own interpolation: $$, ${NAME}, ${NAME:-default}, ${NAME-default}, $NAME.
var composeRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// loadCompose reads docker-compose.yml as `docker compose` would with an empty environment:
// values (not comments) are interpolated, and every variable must have a default so the stack
// starts without an .env file.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	var missing []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			n.Value = composeRef.ReplaceAllStringFunc(n.Value, func(m string) string {
				if m == "$$" {
					return "$"
				}
				sub := composeRef.FindStringSubmatch(m)
				if !strings.Contains(m, "-") {
					missing = append(missing, sub[1]+sub[3])
				}
				return sub[2]
			})
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	require.Empty(t, missing, "compose variables without a default")
	var c composeFile
	require.NoError(t, doc.Decode(&c))
	return c
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err, rel)
	return string(b)
}

func pluginJSON(t *testing.T) (id, grafanaDependency string) {
	t.Helper()
	var p struct {
		ID           string `json:"id"`
		Dependencies struct {
			GrafanaDependency string `json:"grafanaDependency"`
		} `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal([]byte(readRepoFile(t, "plugin/src/plugin.json")), &p))
	return p.ID, p.Dependencies.GrafanaDependency
}

// sviewCommands are the subcommands cmd/sview dispatches.
func sviewCommands(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*"([a-z]+)":\s*\{`).FindAllStringSubmatch(readRepoFile(t, "cmd/sview/main.go"), -1) {
		out = append(out, m[1])
	}
	require.NotEmpty(t, out, "no subcommands found in cmd/sview/main.go")
	return out
}

// flagDef matches a flag definition of the standard flag package, e.g. fs.String("listen", …)
// or fs.IntVar(&n, "days", …).
var flagDef = regexp.MustCompile(`\.(?:String|Int|Int64|Uint|Bool|Duration|Float64|Func|Var|TextVar|StringVar|IntVar|Int64Var|BoolVar|DurationVar|Float64Var)\((?:&[\w.]+,\s*)?"([a-z0-9-]+)"`)

// sviewFlags are the flag names cmd/sview defines.
func sviewFlags(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "cmd", "sview", "*.go"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range flagDef.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"db", "redis", "migrate", "aggregator", "api", "grafana", "demo-seed", "demo-live"} {
		require.Contains(t, c.Services, name)
	}
	require.Equal(t, []string{"demo"}, c.Services["demo-seed"].Profiles)
	require.Equal(t, []string{"demo"}, c.Services["demo-live"].Profiles)
}

var pinnedTag = regexp.MustCompile(`^[^:@]+:([0-9][A-Za-z0-9._-]*)$`)

func TestImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Build != nil {
			continue // built here from the Dockerfile, whose bases are checked below
		}
		require.Regexp(t, pinnedTag, s.Image, "service %s: pin a version tag, never latest", name)
	}
	var froms int
	for _, line := range strings.Split(readRepoFile(t, "Dockerfile"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			froms++
			require.Regexp(t, pinnedTag, f[1], "Dockerfile: %s", line)
		}
	}
	require.GreaterOrEqual(t, froms, 2, "multi-stage Dockerfile")

	// The build stage's Go is at least the module's.
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	require.NotNil(t, goVersion, "go.mod has no go line")
	golang := regexp.MustCompile(`(?m)^FROM golang:([0-9.]+)`).FindStringSubmatch(readRepoFile(t, "Dockerfile"))
	require.NotNil(t, golang, "the Dockerfile builds in a golang image")
	require.True(t, versionAtLeast(golang[1], goVersion[1]), "Dockerfile golang:%s is older than go.mod's go %s", golang[1], goVersion[1])
}

func TestBuildsAndCommands(t *testing.T) {
	c := loadCompose(t)
	dockerfile := readRepoFile(t, "Dockerfile")
	require.Contains(t, dockerfile, "./cmd/sview")
	require.DirExists(t, filepath.Join(root, "cmd", "sview"))
	cmds := sviewCommands(t)
	flags := sviewFlags(t)
	var built int
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		built++
		ctx, ok := s.Build.(string)
		require.True(t, ok, "service %s: build is a context path", name)
		require.FileExists(t, filepath.Join(root, ctx, "Dockerfile"), "service %s", name)
		require.NotEmpty(t, s.Command, "service %s", name)
		require.Contains(t, cmds, s.Command[0], "service %s runs `sview %s`, which cmd/sview does not have", name, s.Command[0])
		for _, a := range s.Command {
			if f, ok := strings.CutPrefix(a, "--"); ok {
				require.Contains(t, flags, f, "service %s passes %s, which cmd/sview does not define", name, a)
			}
		}
		if s.Healthcheck != nil && slices.Contains(s.Healthcheck.Test, "curl") {
			require.Regexp(t, `apt-get install[^\n]*curl`, dockerfile, "service %s health check needs curl in the image", name)
		}
	}
	require.GreaterOrEqual(t, built, 5)
	require.Equal(t, []string{"migrate", "up"}, c.Services["migrate"].Command)
	require.Equal(t, "run", c.Services["aggregator"].Command[0])
	require.Equal(t, "serve", c.Services["api"].Command[0])
	require.Equal(t, []string{"demo", "live"}, c.Services["demo-live"].Command[:2])
}

// bind is one "source:target[:mode]" volume entry.
type bind struct{ source, target string }

func binds(t *testing.T, s composeService) []bind {
	t.Helper()
	var out []bind
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		require.GreaterOrEqual(t, len(parts), 2, "volume %q", v)
		out = append(out, bind{parts[0], parts[1]})
	}
	return out
}

func TestMountsExist(t *testing.T) {
	c := loadCompose(t)
	magefile := readRepoFile(t, "Magefile.go")
	for name, s := range c.Services {
		for _, b := range binds(t, s) {
			if !strings.HasPrefix(b.source, "./") {
				require.Contains(t, c.Volumes, b.source, "service %s: named volume %s is not declared", name, b.source)
				continue
			}
			if b.source == "./dist" {
				// The plugin build output (`go tool mage distLinux`).
				require.Contains(t, magefile, `OutputBinaryPath = "dist"`)
				continue
			}
			_, err := os.Stat(filepath.Join(root, b.source))
			require.NoError(t, err, "service %s mounts %s", name, b.source)
		}
	}
}

func TestGrafanaService(t *testing.T) {
	c := loadCompose(t)
	g := c.Services["grafana"]
	id, dep := pluginJSON(t)

	require.Contains(t, strings.Split(g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"], ","), id)
	mounts := map[string]string{}
	for _, b := range binds(t, g) {
		mounts[b.source] = b.target
	}
	require.Equal(t, "/var/lib/grafana/plugins/"+id, mounts["./dist"])
	require.Equal(t, "/etc/grafana/provisioning", mounts["./provisioning"])
	require.Equal(t, g.Environment["SVIEW_DASHBOARDS_DIR"], mounts["./dashboards"])
	home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	require.Equal(t, mounts["./dashboards"], filepath.Dir(home))
	require.FileExists(t, filepath.Join(root, "dashboards", filepath.Base(home)))

	// Every variable the provisioning files read is set, and the addresses name services.
	names, err := InterpolatedFiles()
	require.NoError(t, err)
	for _, name := range names {
		refs, err := FileEnvRefs(name)
		require.NoError(t, err)
		for _, v := range refs {
			require.Contains(t, g.Environment, v, "provisioning/%s reads $%s", name, v)
		}
	}
	require.Contains(t, c.Services, g.Environment["SVIEW_PG_HOST"])
	redisHost, redisPort, ok := strings.Cut(g.Environment["SVIEW_REDIS_ADDRESS"], ":")
	require.True(t, ok)
	require.Contains(t, c.Services, redisHost)
	require.Equal(t, "6379", redisPort)

	// The database login Grafana uses is the one the init script creates.
	db := c.Services["db"]
	require.Equal(t, db.Environment["POSTGRES_DB"], g.Environment["SVIEW_PG_DATABASE"])
	require.Equal(t, db.Environment["SVIEW_PG_READER_USER"], g.Environment["SVIEW_PG_USER"])
	require.Equal(t, db.Environment["SVIEW_PG_READER_PASSWORD"], g.Environment["SVIEW_PG_PASSWORD"])
	init := readRepoFile(t, "provisioning/postgres/10-sview-grafana.sh")
	for _, v := range []string{"SVIEW_PG_READER_USER", "SVIEW_PG_READER_PASSWORD", "sview_reader"} {
		require.Contains(t, init, v)
	}

	// The image satisfies the plugin's grafanaDependency (">=X.Y.Z").
	min, ok := strings.CutPrefix(dep, ">=")
	require.True(t, ok, "grafanaDependency %q: only >= ranges are checked here", dep)
	_, tag, _ := strings.Cut(g.Image, ":")
	require.True(t, versionAtLeast(tag, min), "grafana image %s is older than the plugin's %s", g.Image, dep)
}

// versionAtLeast compares dotted numeric versions ("12.1.1" ≥ "11.6.0").
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(strings.TrimLeft(a[i], "v"))
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

func TestDatabaseURL(t *testing.T) {
	c := loadCompose(t)
	db := c.Services["db"]
	for name, s := range c.Services {
		raw, ok := s.Environment["SVIEW_DATABASE_URL"]
		if !ok {
			continue
		}
		u, err := url.Parse(raw)
		require.NoError(t, err, name)
		require.Equal(t, "db", u.Hostname(), name)
		require.Equal(t, "/"+db.Environment["POSTGRES_DB"], u.Path, name)
		require.Equal(t, db.Environment["POSTGRES_USER"], u.User.Username(), name)
		pw, _ := u.User.Password()
		require.Equal(t, db.Environment["POSTGRES_PASSWORD"], pw, name)
		r, err := url.Parse(s.Environment["SVIEW_REDIS_URL"])
		require.NoError(t, err, name)
		require.Contains(t, c.Services, r.Hostname(), name)
	}
}

// listenPort finds the port a service listens on from its command flags.
func listenPort(s composeService) string {
	for i, a := range s.Command {
		if (a == "--listen" || a == "--metrics-listen") && i+1 < len(s.Command) {
			_, p, _ := strings.Cut(s.Command[i+1], ":")
			return p
		}
	}
	return ""
}

func TestPorts(t *testing.T) {
	c := loadCompose(t)
	hostPorts := map[string]string{}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			host, container, ok := strings.Cut(p, ":")
			require.True(t, ok, "service %s: publish as HOST:CONTAINER, got %q", name, p)
			if other, dup := hostPorts[host]; dup {
				t.Fatalf("host port %s published by %s and %s", host, other, name)
			}
			hostPorts[host] = name
			want := listenPort(s)
			if name == "grafana" {
				want = "3000" // Grafana's default http_port
			}
			require.Equal(t, want, container, "service %s publishes %s but listens on %q", name, p, want)
		}
	}
	for _, name := range []string{"api", "aggregator", "grafana"} {
		require.NotEmpty(t, c.Services[name].Ports, name)
		if hc := c.Services[name].Healthcheck; hc != nil && name != "grafana" {
			require.Contains(t, strings.Join(hc.Test, " "), "127.0.0.1:"+listenPort(c.Services[name]), "service %s checks its own port", name)
		}
	}
}

func TestDependsOnAndHealth(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Restart != "no" && (len(s.Ports) > 0 || dependedOn(c, name)) {
			require.NotNil(t, s.Healthcheck, "long-running service %s serves others and needs a health check", name)
		}
		if s.Healthcheck != nil {
			require.NotEmpty(t, s.Healthcheck.Test, name)
			require.Contains(t, []string{"CMD", "CMD-SHELL"}, s.Healthcheck.Test[0], name)
		}
		for dep, cond := range s.DependsOn {
			target, ok := c.Services[dep]
			require.True(t, ok, "%s depends on unknown %s", name, dep)
			switch cond.Condition {
			case "service_healthy":
				require.NotNil(t, target.Healthcheck, "%s waits for %s to be healthy, which has no health check", name, dep)
			case "service_completed_successfully":
				require.Equal(t, "no", target.Restart, "%s waits for %s to finish, so it must be one-shot", name, dep)
			default:
				t.Fatalf("%s depends on %s with condition %q; want service_healthy or service_completed_successfully", name, dep, cond.Condition)
			}
			for _, p := range target.Profiles {
				require.Contains(t, s.Profiles, p, "%s (profiles %v) depends on %s, which only runs in profile %s", name, s.Profiles, dep, p)
			}
		}
	}
}

func dependedOn(c composeFile, name string) bool {
	for _, s := range c.Services {
		if _, ok := s.DependsOn[name]; ok {
			return true
		}
	}
	return false
}
