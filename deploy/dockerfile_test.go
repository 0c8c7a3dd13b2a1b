package deploy_test

import (
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is a FROM and the instructions after it.
type stage struct {
	from, name string
	inst       []instruction
}

func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.inst {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into stages. It knows what this
// repository's Dockerfile uses: comments, parser directives, backslash
// continuations.
func parseDockerfile(t *testing.T, text string) []*stage {
	t.Helper()
	var stages []*stage
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			l = strings.TrimSuffix(l, `\`) + " " + next
		}
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{line: start + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := &stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile:%d: %s before FROM", in.line, in.cmd)
		}
		stages[len(stages)-1].inst = append(stages[len(stages)-1].inst, in)
	}
	return stages
}

// shellWords splits a shell command line into words, honouring double and
// single quotes; "&&" separates commands.
func shellWords(s string) [][]string {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	flush := func() {
		if inWord {
			if w.String() == "&&" {
				cmds = append(cmds, words)
				words = nil
			} else {
				words = append(words, w.String())
			}
			w.Reset()
			inWord = false
		}
	}
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			flush()
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	flush()
	return append(cmds, words)
}

// execForm parses a JSON array instruction argument such as ["/serve"].
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil || len(v) == 0 {
		t.Fatalf("Dockerfile:%d: %s %s is not in exec form (a JSON array): %v", in.line, in.cmd, in.args, err)
	}
	return v
}

// dockerignore reads .dockerignore's patterns.
func dockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			t.Fatalf(".dockerignore: exceptions (%s) are not handled by this test", l)
		}
		pats = append(pats, strings.TrimPrefix(path.Clean(l), "/"))
	}
	return pats
}

// ignored reports whether rel (slash-separated, relative to the context
// root) is excluded: a pattern matches it or one of its parent directories;
// a leading **/ matches at any depth.
func ignored(rel string, pats []string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range pats {
		for n := 1; n <= len(parts); n++ {
			prefix := strings.Join(parts[:n], "/")
			if ok, _ := path.Match(p, prefix); ok {
				return true
			}
			if tail, ok := strings.CutPrefix(p, "**/"); ok {
				for i := range n {
					if ok, _ := path.Match(tail, strings.Join(parts[i:n], "/")); ok {
						return true
					}
				}
			}
		}
	}
	return false
}

// copyContext copies the sources of stage's COPY instructions (not those
// --from another stage), less what .dockerignore excludes, from the
// repository into dir as the Dockerfile lays them out under WORKDIR, and
// returns the files copied.
func copyContext(t *testing.T, st *stage, dir string) []string {
	t.Helper()
	pats := dockerignore(t)
	var copied []string
	copyFile := func(src, dst string) {
		rel := filepath.ToSlash(src)
		if ignored(rel, pats) {
			return
		}
		b, err := os.ReadFile(filepath.Join(root, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
		copied = append(copied, rel)
	}
	for _, in := range st.all("COPY") {
		f := strings.Fields(in.args)
		if strings.HasPrefix(f[0], "--from") {
			continue
		}
		srcs, dst := f[:len(f)-1], f[len(f)-1]
		for _, src := range srcs {
			matches, err := filepath.Glob(filepath.Join(root, src))
			if err != nil || len(matches) == 0 {
				t.Errorf("Dockerfile:%d: COPY %s: no such file in the repository", in.line, src)
				continue
			}
			for _, m := range matches {
				rel, _ := filepath.Rel(root, m)
				info, err := os.Stat(m)
				if err != nil {
					t.Fatal(err)
				}
				if !info.IsDir() {
					if !strings.HasSuffix(dst, "/") && len(matches) > 1 {
						t.Fatalf("Dockerfile:%d: several sources need a destination ending in /", in.line)
					}
					target := dst
					if strings.HasSuffix(dst, "/") {
						target = path.Join(dst, filepath.Base(rel))
					}
					copyFile(rel, target)
					continue
				}
				// A directory's contents go into dst.
				err = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					inner, _ := filepath.Rel(m, p)
					srcRel, _ := filepath.Rel(root, p)
					copyFile(srcRel, path.Join(dst, filepath.ToSlash(inner)))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return copied
}

// stageEnv returns the variables a stage's ENV instructions set (KEY=VALUE
// form).
func stageEnv(t *testing.T, st *stage) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range st.all("ENV") {
		for _, cmd := range shellWords(in.args) {
			for _, w := range cmd {
				k, v, ok := strings.Cut(w, "=")
				if !ok {
					t.Fatalf("Dockerfile:%d: ENV %s: use the KEY=VALUE form", in.line, in.args)
				}
				env[k] = v
			}
		}
	}
	return env
}

// TestDockerfile builds cmd/serve as the Dockerfile does and checks the
// result is a static binary that starts and answers /health, and that the
// image's port and health check agree with the server.
func TestDockerfile(t *testing.T) {
	needBinary(t)
	text, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(text))
	if len(stages) != 2 {
		t.Fatalf("the Dockerfile has %d stages, want 2 (build, run)", len(stages))
	}
	build, final := stages[0], stages[1]
	// The image builds the commands' module: its Go is cmd/go.mod's.
	cmdMod, err := os.ReadFile(filepath.Join(root, "cmd", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(cmdMod)
	if goLine == nil {
		t.Fatal("cmd/go.mod has no go line")
	}
	if want := "golang:" + string(goLine[1]); !strings.HasPrefix(build.from, want) {
		t.Errorf("build stage FROM %s, want %s (cmd/go.mod's Go)", build.from, want)
	}
	if final.from != "gcr.io/distroless/static-debian12:nonroot" && final.from != "scratch" {
		t.Errorf("runtime stage FROM %s, want a minimal static image", final.from)
	}
	if users := final.all("USER"); len(users) != 1 || strings.HasPrefix(users[0].args, "0") || users[0].args == "root" {
		t.Errorf("runtime stage USER %v, want one non-root user", users)
	}

	// The module download layer comes before the sources: the go.mod files
	// (and cmd/go.sum) are copied, then the commands' modules downloaded,
	// then everything else.
	download := slices.IndexFunc(build.inst, func(in instruction) bool {
		return in.cmd == "RUN" && strings.HasSuffix(in.args, "mod download")
	})
	if download < 0 {
		t.Fatal("the build stage has no RUN ... mod download layer")
	}
	for _, in := range build.inst[:download] {
		if in.cmd != "COPY" {
			continue
		}
		for _, src := range strings.Fields(in.args)[:len(strings.Fields(in.args))-1] {
			if base := path.Base(src); base != "go.mod" && base != "go.sum" {
				t.Errorf("Dockerfile:%d: COPY %s before the module download: only go.mod and go.sum files belong there, or every change to the sources downloads the modules again", in.line, src)
			}
		}
	}

	// Build in a context holding only what the COPY lines copy.
	ctxDir := t.TempDir()
	copied := copyContext(t, build, ctxDir)
	for _, must := range []string{"go.mod", "cmd/go.mod", "cmd/go.sum", "classifyhttp/go.mod", "classifygrpc/go.mod", "classify.go", "models/manifest.json", "cmd/serve/main.go", "cmd/classify/main.go"} {
		if !slices.Contains(copied, must) {
			t.Errorf("the build context lacks %s", must)
		}
	}
	for _, f := range copied {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "testdata/") || strings.HasPrefix(f, "research/") {
			t.Errorf("the build context holds %s, which .dockerignore should leave out", f)
		}
	}
	outDir := t.TempDir()
	buildEnv := stageEnv(t, build)
	built := map[string]string{} // image path → built file
	for _, run := range build.all("RUN") {
		for _, words := range shellWords(run.args) {
			env := os.Environ()
			for k, v := range buildEnv {
				env = append(env, k+"="+v)
			}
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				env = append(env, words[0])
				words = words[1:]
			}
			goArgs := words[1:] // after go -C dir, the subcommand
			if len(goArgs) >= 2 && goArgs[0] == "-C" {
				goArgs = goArgs[2:]
			}
			if len(words) < 2 || words[0] != "go" || len(goArgs) == 0 || goArgs[0] != "build" {
				continue
			}
			i := slices.Index(words, "-o")
			if i < 0 || i+1 >= len(words) {
				t.Fatalf("Dockerfile:%d: go build without -o", run.line)
			}
			imagePath := words[i+1]
			out := filepath.Join(outDir, path.Base(imagePath))
			words = slices.Clone(words)
			words[i+1] = out
			cmd := exec.Command(words[0], words[1:]...)
			cmd.Dir, cmd.Env = ctxDir, env
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("Dockerfile:%d: %s: %v\n%s", run.line, strings.Join(words, " "), err, b)
			}
			if !slices.Contains(env, "CGO_ENABLED=0") {
				t.Errorf("Dockerfile:%d: go build without CGO_ENABLED=0", run.line)
			}
			if !slices.Contains(words, "-trimpath") {
				t.Errorf("Dockerfile:%d: go build without -trimpath", run.line)
			}
			built[imagePath] = out
		}
	}
	serve, ok := built["/out/serve"]
	if !ok {
		t.Fatalf("no RUN line builds /out/serve; built %v", built)
	}
	if _, ok := built["/out/classify"]; !ok {
		t.Errorf("no RUN line builds /out/classify")
	}
	for p, f := range built {
		checkStatic(t, p, f)
	}

	// The runtime stage copies the binaries to / and runs /serve.
	entry := final.all("ENTRYPOINT")
	if len(entry) != 1 || execForm(t, entry[0])[0] != "/serve" {
		t.Fatalf("ENTRYPOINT %v, want [\"/serve\"]", entry)
	}
	var fromBuild []string
	for _, in := range final.all("COPY") {
		f := strings.Fields(in.args)
		if f[0] == "--from="+build.name && f[len(f)-1] == "/" {
			fromBuild = append(fromBuild, f[1:len(f)-1]...)
		}
	}
	if !slices.Contains(fromBuild, "/out/serve") {
		t.Errorf("the runtime stage does not COPY --from=%s /out/serve to /", build.name)
	}

	// Ports: EXPOSE, ENV MPS_API_PORT and MPS_GRPC_PORT and the server's
	// defaults agree.
	settings, help := serverSettings(t, serve)
	defPort, defGRPC := settings["MPS_API_PORT"].def, settings["MPS_GRPC_PORT"].def
	expose := final.all("EXPOSE")
	if len(expose) != 1 || expose[0].args != defPort+" "+defGRPC {
		t.Errorf("EXPOSE %v, want the server's default ports %s %s", expose, defPort, defGRPC)
	}
	env := stageEnv(t, final)
	if env["MPS_API_PORT"] != defPort || env["MPS_API_HOST"] != "0.0.0.0" || env["MPS_GRPC_PORT"] != defGRPC {
		t.Errorf("runtime ENV %v, want MPS_API_HOST=0.0.0.0, MPS_API_PORT=%s and MPS_GRPC_PORT=%s", env, defPort, defGRPC)
	}
	for k := range env {
		if _, ok := settings[k]; !ok {
			t.Errorf("runtime ENV sets %s, which the server does not read", k)
		}
	}

	// The binary built as the image builds it starts and is healthy.
	srv, err := startServer(t, serve, env)
	if err != nil {
		t.Fatal(err)
	}
	status, body := srv.get(t, "/health")
	var health map[string]any
	if err := json.Unmarshal([]byte(body), &health); status != 200 || err != nil || len(health) != 1 || health["status"] != "healthy" {
		t.Errorf("GET /health: %d %s, want 200 {\"status\":\"healthy\"}", status, body)
	}

	// HEALTHCHECK runs the server binary itself (the image has no shell or
	// curl), with a flag it has.
	hc := final.all("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("%d HEALTHCHECK instructions, want 1", len(hc))
	}
	_, cmdPart, ok := strings.Cut(hc[0].args, "CMD ")
	if !ok {
		t.Fatalf("Dockerfile:%d: HEALTHCHECK without CMD", hc[0].line)
	}
	check := execForm(t, instruction{line: hc[0].line, cmd: "HEALTHCHECK", args: cmdPart})
	if check[0] != "/serve" || len(check) != 2 || check[1] != "-healthcheck" {
		t.Fatalf("HEALTHCHECK CMD %v, want [\"/serve\", \"-healthcheck\"]", check)
	}
	t.Run("healthcheck", func(t *testing.T) {
		if !strings.Contains(help, "-healthcheck") {
			t.Fatal("serve -h documents no -healthcheck flag: the image's HEALTHCHECK needs it")
		}
		port := strings.TrimPrefix(srv.url, "http://127.0.0.1:")
		if _, err := strconv.Atoi(port); err != nil {
			t.Fatal(port)
		}
		probe := func() error {
			cmd := exec.Command(serve, check[1:]...)
			cmd.Env = []string{"MPS_API_HOST=0.0.0.0", "MPS_API_PORT=" + port}
			out, err := cmd.CombinedOutput()
			if err != nil {
				return &probeError{err, string(out)}
			}
			return nil
		}
		if err := probe(); err != nil {
			t.Errorf("serve -healthcheck against a healthy server: %v", err)
		}
		srv.stop(t)
		if err := probe(); err == nil {
			t.Errorf("serve -healthcheck succeeded with no server running")
		}
	})
}

type probeError struct {
	err error
	out string
}

func (e *probeError) Error() string { return e.err.Error() + ": " + e.out }

// checkStatic fails unless the ELF file at path needs no dynamic loader and
// no shared libraries.
func checkStatic(t *testing.T, name, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is not static: it has a %v program header", name, p.Type)
		}
	}
	if f.Section(".interp") != nil || f.Section(".dynamic") != nil {
		t.Errorf("%s is not static: it has a .interp or .dynamic section", name)
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s imports shared libraries %v (%v)", name, libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a symbol table: -ldflags=\"-s -w\" should strip it", name)
	}
}
