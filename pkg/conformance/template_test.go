package conformance_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/config"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/iam"
	"github.com/convrs/admin/pkg/local"
)

// makefile is what the test needs from the Makefile: variables and target recipes.
type makefile struct {
	vars    map[string]string
	recipes map[string][]string
}

var (
	makeVar    = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?=|:=|=)\s*(.*)$`)
	makeTarget = regexp.MustCompile(`^([A-Za-z0-9_.%-]+)\s*:([^=]|$)`)
	makeRef    = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	functionIn = regexp.MustCompile(`\./functions/([A-Za-z0-9_-]+)`)
)

func mustParseMakefile(t *testing.T) makefile {
	t.Helper()
	m := makefile{vars: map[string]string{}, recipes: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(mustRead(t, repoPath("Makefile"))))
	target := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "\t") {
			if target != "" {
				m.recipes[target] = append(m.recipes[target], strings.TrimSpace(line))
			}
			continue
		}
		target = ""
		if sm := makeVar.FindStringSubmatch(line); sm != nil {
			m.vars[sm[1]] = strings.TrimSpace(sm[2])
		} else if sm := makeTarget.FindStringSubmatch(line); sm != nil {
			target = sm[1]
			m.recipes[target] = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// expand replaces the Makefile's own variables in s (ARTIFACTS_DIR, set by SAM, stays).
func (m makefile) expand(s string) string {
	for range 5 {
		s = makeRef.ReplaceAllStringFunc(s, func(ref string) string {
			if v, ok := m.vars[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return s
}

// cfn is the parsed template with SAM's Globals.Function applied the way SAM merges them.
type cfn struct {
	root      *yaml.Node
	resources map[string]*yaml.Node // logical id -> resource
	order     []string
}

func mustParseTemplate(t *testing.T) cfn {
	t.Helper()
	c := cfn{root: mustParseYAML(t, repoPath("template.yaml")), resources: map[string]*yaml.Node{}}
	if got := scalar(at(c.root, "Transform")); got != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %q, want AWS::Serverless-2016-10-31", got)
	}
	for _, e := range entries(at(c.root, "Resources")) {
		c.resources[e.Key] = e.Value
		c.order = append(c.order, e.Key)
	}
	return c
}

func (c cfn) typeOf(id string) string { return scalar(at(c.resources[id], "Type")) }

func (c cfn) ofType(typ string) []string {
	var out []string
	for _, id := range c.order {
		if c.typeOf(id) == typ {
			out = append(out, id)
		}
	}
	return out
}

// prop returns a function property, falling back to Globals.Function (SAM merges maps
// key by key, the function's own value winning).
func (c cfn) prop(id string, path ...string) *yaml.Node {
	if n := at(c.resources[id], append([]string{"Properties"}, path...)...); n != nil {
		return n
	}
	return at(c.root, append([]string{"Globals", "Function"}, path...)...)
}

// envNames lists the environment variables a function gets, Globals included.
func (c cfn) envNames(id string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, n := range []*yaml.Node{at(c.root, "Globals", "Function", "Environment", "Variables"),
		at(c.resources[id], "Properties", "Environment", "Variables")} {
		for _, e := range entries(n) {
			out[e.Key] = e.Value
		}
	}
	return out
}

// refTarget returns the logical id or parameter that n references with Ref (!Ref X or
// {Ref: X}), else "".
func refTarget(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Tag == "!Ref" {
		return n.Value
	}
	return scalar(at(n, "Ref"))
}

// intrinsicText is the text of a resource reference (!Ref, !GetAtt, !Sub or their long
// forms) for checking which resource it names.
func intrinsicText(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	switch n.Tag {
	case "!Ref", "!Sub", "!GetAtt":
		if n.Kind == yaml.ScalarNode {
			return n.Value
		}
	}
	for _, k := range []string{"Ref", "Fn::Sub", "Fn::GetAtt"} {
		if v := at(n, k); v != nil {
			if v.Kind == yaml.SequenceNode {
				var parts []string
				for _, p := range v.Content {
					parts = append(parts, scalar(p))
				}
				return strings.Join(parts, ".")
			}
			return scalar(v)
		}
	}
	return scalar(n)
}

// list returns the items of a sequence node, or the node itself when it is a scalar
// (IAM and CloudFormation accept a single value in place of a list).
func list(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	default:
		return []*yaml.Node{n}
	}
}

// LogicalID is the template logical id of the function in functions/<name>: its name in
// CamelCase plus "Function" (office-hours -> OfficeHoursFunction).
func LogicalID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Function"
}

// makeBuilds runs the Makefile's build target for a logical id the way sam build does
// (with go replaced by echo) and returns the functions/<name> it builds, or "" after
// reporting that it builds none or several.
func makeBuilds(t *testing.T, id string) string {
	t.Helper()
	cmd := exec.Command("make", "-s", "--no-print-directory", "build-"+id, "GO=echo", "ARTIFACTS_DIR=/artifacts")
	cmd.Dir = repoPath()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("make build-%s: %v\n%s", id, err, out)
		return ""
	}
	m := functionIn.FindAllStringSubmatch(string(out), -1)
	if len(m) != 1 || !strings.Contains(string(out), "-o /artifacts/bootstrap") {
		t.Errorf("make build-%s runs %q; want one build of ./functions/<name> into $ARTIFACTS_DIR/bootstrap", id, out)
		return ""
	}
	return m[0][1]
}

// TestTemplateMatchesCode checks template.yaml against the code and the Makefile: the
// same functions everywhere, each built by its Makefile target from its own folder, with
// exactly the routes its code serves, the environment its configuration reads, and the
// table, bucket and API the code expects.
func TestTemplateMatchesCode(t *testing.T) {
	tpl := mustParseTemplate(t)
	mk := mustParseMakefile(t)

	// The functions, four ways: folders, catalog, template (through the Makefile), FUNCTIONS.
	var folders []string
	dirs, err := os.ReadDir(repoPath("functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() {
			if _, err := os.Stat(repoPath("functions", d.Name(), "main.go")); err != nil {
				t.Errorf("functions/%s has no main.go", d.Name())
			}
			folders = append(folders, d.Name())
		}
	}
	var names []string
	for _, f := range local.Functions {
		names = append(names, f.Name)
	}
	logicalIDs := map[string]string{} // function name -> template logical id
	var templated []string
	for _, id := range tpl.ofType("AWS::Serverless::Function") {
		res := tpl.resources[id]
		if got := scalar(at(res, "Metadata", "BuildMethod")); got != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %q, want makefile (sam build runs make build-%s)", id, got, id)
		}
		if got := scalar(at(res, "Properties", "CodeUri")); got != "." {
			t.Errorf("%s: CodeUri = %q, want . (the module root, where the Makefile is)", id, got)
		}
		name := makeBuilds(t, id)
		if name == "" {
			continue
		}
		if want := LogicalID(name); want != id {
			t.Errorf("%s builds functions/%s, whose logical id must be %s", id, name, want)
		}
		if prev, dup := logicalIDs[name]; dup {
			t.Errorf("%s and %s both build functions/%s", prev, id, name)
		}
		logicalIDs[name] = id
		templated = append(templated, name)
	}
	// The one pattern rule SAM calls builds a linux/arm64 bootstrap into ARTIFACTS_DIR.
	recipe, ok := mk.recipes["build-%Function"]
	cmd := mk.expand(strings.Join(recipe, "\n"))
	if !ok {
		t.Errorf("the Makefile has no build-%%Function pattern rule")
	}
	for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-o $(ARTIFACTS_DIR)/bootstrap", "./functions/"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("build-%%Function: recipe %q lacks %s", cmd, want)
		}
	}
	// FUNCTIONS, as make computes it.
	var funcsVar []string
	pf := exec.Command("make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "print-functions")
	pf.Dir = repoPath()
	pf.Stdin = strings.NewReader("print-functions:\n\t@echo $(FUNCTIONS)\n")
	if out, err := pf.CombinedOutput(); err == nil {
		funcsVar = strings.Fields(string(out))
	} else {
		t.Errorf("make print-functions: %v\n%s", err, out)
	}
	want := slices.Sorted(slices.Values(folders))
	for _, got := range []struct {
		what  string
		names []string
	}{
		{"local.Functions", names},
		{"template.yaml functions", templated},
		{"Makefile FUNCTIONS", funcsVar},
	} {
		if s := slices.Sorted(slices.Values(got.names)); !slices.Equal(s, want) {
			t.Errorf("%s = %v, want the folders under functions/: %v", got.what, s, want)
		}
	}

	adminAPI, widgetAPI := checkHTTPAPI(t, tpl)
	knownEnv := map[string]bool{config.EnvTableName: true, config.EnvLogoBucket: true, config.EnvLogLevel: true, config.EnvAuditCursorKey: true, config.EnvPublicBaseURL: true, config.EnvWebchatSecretPrefix: true, config.EnvEventBusName: true, config.EnvMailFrom: true,
		config.EnvSigningKeyID: true, config.EnvSigningKeysPublished: true, config.EnvTokenIssuer: true, config.EnvTokenAudience: true}
	for _, f := range local.Functions {
		id, ok := logicalIDs[f.Name]
		if !ok {
			continue // reported above
		}
		t.Run(id, func(t *testing.T) {
			// Runtime: a custom-runtime arm64 bootstrap logging JSON.
			for _, p := range []struct {
				path []string
				want string
			}{
				{[]string{"Runtime"}, "provided.al2023"},
				{[]string{"Handler"}, "bootstrap"},
				{[]string{"LoggingConfig", "LogFormat"}, "JSON"},
			} {
				if got := scalar(tpl.prop(id, p.path...)); got != p.want {
					t.Errorf("%s = %q, want %q", strings.Join(p.path, "."), got, p.want)
				}
			}
			if arch := list(tpl.prop(id, "Architectures")); len(arch) != 1 || scalar(arch[0]) != "arm64" {
				t.Errorf("Architectures must be [arm64], the Makefile builds GOARCH=arm64")
			}

			checkTriggers(t, tpl, id, f)

			// Routes: the template's HttpApi events are exactly the routes the code serves.
			got := routeSet{}
			for _, ev := range entries(tpl.prop(id, "Events")) {
				if scalar(at(ev.Value, "Type")) != "HttpApi" {
					continue
				}
				p := at(ev.Value, "Properties")
				r := route{strings.ToUpper(scalar(at(p, "Method"))), scalar(at(p, "Path"))}
				if got[r] {
					t.Errorf("event %s repeats %s", ev.Key, r)
				}
				got[r] = true
				api := refTarget(at(p, "ApiId"))
				switch {
				case f.Widget && api != widgetAPI:
					t.Errorf("event %s: %s is a widget function: ApiId must !Ref the widget API %s, not %q", ev.Key, f.Name, widgetAPI, api)
				case !f.Widget && api != adminAPI:
					t.Errorf("event %s: ApiId must !Ref the admin API %s, not %q", ev.Key, adminAPI, api)
				}
				none := scalar(at(p, "Auth", "Authorizer")) == "NONE"
				switch public := publicRoutes(f)[r]; {
				case f.Widget && !public:
					t.Errorf("event %s: the widget API has no authorizer, so %s must be public in the code (auth.Public)", ev.Key, r)
				case f.Widget:
				case none && !public:
					t.Errorf("event %s turns the JWT authorizer off, but %s is not public in the code (auth.Public)", ev.Key, r)
				case public && !none:
					t.Errorf("event %s: %s is public in the code (auth.Public), so the authorizer must be off (Auth: Authorizer: NONE)", ev.Key, r)
				}
				if v := scalar(at(p, "PayloadFormatVersion")); v != "" && v != "2.0" {
					t.Errorf("event %s: PayloadFormatVersion %s, the handler reads payload format 2.0", ev.Key, v)
				}
			}
			served := functionRoutes(f)
			if miss := served.missingFrom(got); len(miss) > 0 {
				t.Errorf("served by %s but missing from the template: %v", f.Name, miss)
			}
			if extra := got.missingFrom(served); len(extra) > 0 {
				t.Errorf("in the template but not served by %s: %v", f.Name, extra)
			}

			// Environment: what the configuration needs, nothing it does not read.
			env := tpl.envNames(id)
			for name := range env {
				if !knownEnv[name] {
					t.Errorf("environment variable %s is not read by package config", name)
				}
			}
			wantRef := map[string]string{config.EnvTableName: "AWS::DynamoDB::Table", config.EnvLogoBucket: "AWS::S3::Bucket"}
			cn := f.Needs.Config()
			for name, needed := range map[string]bool{config.EnvTableName: cn.Table, config.EnvLogoBucket: cn.LogoBucket} {
				v, set := env[name]
				switch {
				case needed && !set:
					t.Errorf("%s is not set but %s needs it", name, f.Name)
				case !needed && set:
					t.Errorf("%s is set but %s does not need it (least privilege: keep it out)", name, f.Name)
				case set && tpl.typeOf(refTarget(v)) != wantRef[name]:
					t.Errorf("%s must !Ref the %s resource, not %q", name, wantRef[name], intrinsicText(v))
				}
			}
			switch v, set := env[config.EnvAuditCursorKey]; {
			case cn.AuditCursorKey && !set:
				t.Errorf("%s is not set but %s needs it", config.EnvAuditCursorKey, f.Name)
			case !cn.AuditCursorKey && set:
				t.Errorf("%s is set but %s does not need it", config.EnvAuditCursorKey, f.Name)
			case set:
				ref := regexp.MustCompile(`^\{\{resolve:secretsmanager:\$\{([A-Za-z0-9]+)\}:SecretString\}\}$`).FindStringSubmatch(intrinsicText(v))
				if v.Tag != "!Sub" || ref == nil || tpl.typeOf(ref[1]) != "AWS::SecretsManager::Secret" {
					t.Errorf("%s must be !Sub \"{{resolve:secretsmanager:${<secret>}:SecretString}}\" of a generated AWS::SecretsManager::Secret, not %q", config.EnvAuditCursorKey, intrinsicText(v))
				} else if at(tpl.resources[ref[1]], "Properties", "GenerateSecretString") == nil {
					t.Errorf("%s: the secret must be generated (GenerateSecretString)", ref[1])
				}
			}
			switch v, set := env[config.EnvWebchatSecretPrefix]; {
			case cn.WebchatSecretPrefix && !set:
				t.Errorf("%s is not set but %s needs it", config.EnvWebchatSecretPrefix, f.Name)
			case !cn.WebchatSecretPrefix && set:
				t.Errorf("%s is set but %s does not need it", config.EnvWebchatSecretPrefix, f.Name)
			case set && (v.Tag != "!Sub" || v.Value != iam.WebchatSecretPrefix):
				t.Errorf("%s must be !Sub %q (the prefix its IAM statement is limited to), not %q", config.EnvWebchatSecretPrefix, iam.WebchatSecretPrefix, intrinsicText(v))
			}
			switch v, set := env[config.EnvPublicBaseURL]; {
			case cn.PublicBaseURL && !set:
				t.Errorf("%s is not set but %s needs it", config.EnvPublicBaseURL, f.Name)
			case !cn.PublicBaseURL && set:
				t.Errorf("%s is set but %s does not need it", config.EnvPublicBaseURL, f.Name)
			case set && refTarget(v) != "PublicBaseUrl":
				t.Errorf("%s must !Ref the PublicBaseUrl parameter", config.EnvPublicBaseURL)
			}
			switch v, set := env[config.EnvEventBusName]; {
			case cn.EventBus && !set:
				t.Errorf("%s is not set but %s needs it", config.EnvEventBusName, f.Name)
			case !cn.EventBus && set:
				t.Errorf("%s is set but %s does not need it", config.EnvEventBusName, f.Name)
			case set && tpl.typeOf(refTarget(v)) != "AWS::Events::EventBus":
				t.Errorf("%s must !Ref the AWS::Events::EventBus the function may put events on (its IAM statement), not %q", config.EnvEventBusName, intrinsicText(v))
			}
			switch v, set := env[config.EnvMailFrom]; {
			case cn.MailFrom && !set:
				t.Errorf("%s is not set but %s needs it", config.EnvMailFrom, f.Name)
			case !cn.MailFrom && set:
				t.Errorf("%s is set but %s does not need it", config.EnvMailFrom, f.Name)
			case set && refTarget(v) != "MailFrom":
				t.Errorf("%s must !Ref the MailFrom parameter", config.EnvMailFrom)
			}
			checkSigningEnv(t, env, cn.Signing, f.Name)
			if v, set := env[config.EnvLogLevel]; set && refTarget(v) != "LogLevel" {
				t.Errorf("%s must !Ref the LogLevel parameter", config.EnvLogLevel)
			}

			checkPolicies(t, tpl, id, f)
			// Image checks are the costliest work any function does: the logo function's
			// concurrency is capped (and reserved) so an upload flood stays contained.
			if f.Needs.Logos {
				if n, err := strconv.Atoi(scalar(tpl.prop(id, "ReservedConcurrentExecutions"))); err != nil || n < 1 {
					t.Errorf("ReservedConcurrentExecutions must be set for a function that decodes images")
				}
			}
		})
	}

	checkLogLevelParameter(t, tpl)
	checkTable(t, tpl)
	checkBucket(t, tpl)
	for _, out := range []string{"ApiUrl", "WidgetApiUrl", "TableName", "LogoBucketName", "AdminEventBusName"} {
		if at(tpl.root, "Outputs", out, "Value") == nil {
			t.Errorf("Outputs.%s is missing", out)
		}
	}
}

// resourceName turns a policy statement's resource into the form iam.Grant uses:
// "Table" for !GetAtt Table.Arn, "Table/index/x" for !Sub "${Table.Arn}/index/x".
func resourceName(n *yaml.Node) string {
	text := intrinsicText(n)
	text = strings.TrimPrefix(text, "${")
	text = strings.Replace(text, ".Arn}", "", 1)
	return strings.TrimSuffix(text, ".Arn")
}

// wantsResource reports whether a grant names res exactly (so its wildcard is the one the
// needs call for).
func wantsResource(want map[iam.Grant]bool, res string) bool {
	for g := range want {
		if g.Resource == res {
			return true
		}
	}
	return false
}

// checkPolicies checks that a function's policies are explicit Allow statements that give
// exactly the grants its Needs call for (iam.Grants): every action on exactly its
// resources, DynamoDB actions limited by a ForAllValues:StringLike dynamodb:LeadingKeys
// condition to the key patterns the function's items use.
func checkPolicies(t *testing.T, tpl cfn, id string, f app.Function) {
	t.Helper()
	want := map[iam.Grant]bool{}
	for _, g := range iam.Grants(f.Needs) {
		want[g] = true
	}
	got := map[iam.Grant]bool{}
	for i, pol := range list(at(tpl.resources[id], "Properties", "Policies")) {
		stmts := at(pol, "Statement")
		if stmts == nil {
			t.Errorf("Policies[%d] must be an explicit policy document with Statement, not a managed policy or SAM template", i)
			continue
		}
		for _, st := range list(stmts) {
			st = conditionalStatement(t, tpl, st)
			if scalar(at(st, "Effect")) != "Allow" {
				t.Errorf("statement %s: only Allow statements are expected", scalar(at(st, "Sid")))
				continue
			}
			cond := at(st, "Condition")
			leading := []string{""}
			if cond != nil {
				keys := list(at(cond, "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
				if len(keys) == 0 || len(entries(cond)) != 1 {
					t.Errorf("statement %s: the only condition expected is ForAllValues:StringLike dynamodb:LeadingKeys", scalar(at(st, "Sid")))
				}
				leading = nil
				for _, k := range keys {
					leading = append(leading, scalar(k))
				}
			}
			for _, r := range list(at(st, "Resource")) {
				res := resourceName(r)
				if strings.Contains(res, "*") && !wantsResource(want, res) {
					t.Errorf("resource %q is a wildcard", intrinsicText(r))
				}
				for _, a := range list(at(st, "Action")) {
					for _, k := range leading {
						g := iam.Grant{Action: scalar(a), Resource: res, LeadingKeys: k}
						if !want[g] {
							t.Errorf("grants %s on %s (leading keys %q), which the needs of %s do not call for", g.Action, g.Resource, g.LeadingKeys, f.Name)
						}
						got[g] = true
					}
				}
			}
		}
	}
	for g := range want {
		if !got[g] {
			t.Errorf("does not grant %s on %s (leading keys %q), which %s needs", g.Action, g.Resource, g.LeadingKeys, f.Name)
		}
	}
}

// conditionalStatement returns the statement st gives: st itself, or the statement of
// !If [<condition>, <statement>, !Ref AWS::NoValue] (a statement given only while its
// condition holds, such as a grant on a signing key in use), after checking that the
// condition is one of the template's.
func conditionalStatement(t *testing.T, tpl cfn, st *yaml.Node) *yaml.Node {
	t.Helper()
	args := at(st, "Fn::If")
	if st.Tag == "!If" {
		args = st
	}
	if args == nil {
		return st
	}
	if len(args.Content) != 3 || refTarget(args.Content[2]) != "AWS::NoValue" {
		t.Errorf("a conditional statement must be !If [<condition>, <statement>, !Ref AWS::NoValue]")
		return args
	}
	if c := scalar(args.Content[0]); at(tpl.root, "Conditions", c) == nil {
		t.Errorf("statement %s: condition %q is not in Conditions", scalar(at(args.Content[1], "Sid")), c)
	}
	return args.Content[1]
}

// checkSigningEnv checks the signing variables of a function: set exactly when its needs
// call for them, the key in use (the stack's own, or the rotation's SigningKeyArn), the
// published keys parameter, the issuer the authorizer trusts by default (PublicBaseUrl)
// and the authorizer's audience.
func checkSigningEnv(t *testing.T, env map[string]*yaml.Node, needed bool, name string) {
	t.Helper()
	for _, k := range []string{config.EnvSigningKeyID, config.EnvSigningKeysPublished, config.EnvTokenIssuer, config.EnvTokenAudience} {
		v, set := env[k]
		switch {
		case needed && !set:
			t.Errorf("%s is not set but %s needs it", k, name)
			continue
		case !needed && set:
			t.Errorf("%s is set but %s does not need it", k, name)
			continue
		case !set:
			continue
		}
		switch k {
		case config.EnvSigningKeyID:
			if got := ifText(v); got != "StackSigningKey ? SigningKey.Arn : SigningKeyArn" {
				t.Errorf("%s must be !If [StackSigningKey, !GetAtt SigningKey.Arn, !Ref SigningKeyArn] (the key its IAM statements name), not %s", k, got)
			}
		case config.EnvSigningKeysPublished:
			j := v.Content
			if v.Tag != "!Join" || len(j) != 2 || scalar(j[0]) != "," || refTarget(j[1]) != "PublishedSigningKeyArns" {
				t.Errorf(`%s must be !Join [",", !Ref PublishedSigningKeyArns]`, k)
			}
		case config.EnvTokenIssuer:
			if refTarget(v) != "PublicBaseUrl" {
				t.Errorf("%s must !Ref PublicBaseUrl: the deployment's own issuer, which serves /.well-known/* and which the authorizer trusts unless JwtIssuer is set", k)
			}
		case config.EnvTokenAudience:
			if refTarget(v) != "JwtAudience" {
				t.Errorf("%s must !Ref JwtAudience, the authorizer's audience", k)
			}
		}
	}
}

// ifText writes !If [c, a, b] as "c ? a : b" (a and b as intrinsicText), or "" when n is
// not an !If of three.
func ifText(n *yaml.Node) string {
	if n == nil || n.Tag != "!If" || len(n.Content) != 3 {
		return ""
	}
	return scalar(n.Content[0]) + " ? " + intrinsicText(n.Content[1]) + " : " + intrinsicText(n.Content[2])
}

// checkLogLevelParameter checks that every value the LogLevel parameter allows is one
// package config accepts.
func checkLogLevelParameter(t *testing.T, tpl cfn) {
	t.Helper()
	p := at(tpl.root, "Parameters", "LogLevel")
	values := []string{scalar(at(p, "Default"))}
	for _, v := range list(at(p, "AllowedValues")) {
		values = append(values, scalar(v))
	}
	if len(values) < 2 {
		t.Errorf("Parameters.LogLevel needs a Default and AllowedValues")
	}
	for _, v := range values {
		getenv := func(k string) string {
			if k == config.EnvLogLevel {
				return v
			}
			return ""
		}
		if _, err := config.Load(config.Needs{}, getenv); err != nil {
			t.Errorf("LogLevel %q is rejected by package config: %v", v, err)
		}
	}
}

// checkHTTPAPI checks the two HTTP APIs and returns their logical ids: the admin API
// (JWT authorizer by default) and the widget API (no authorizer: public routes only, any
// origin, throttled harder).
func checkHTTPAPI(t *testing.T, tpl cfn) (admin, widget string) {
	t.Helper()
	apis := tpl.ofType("AWS::Serverless::HttpApi")
	for _, id := range apis {
		if at(tpl.resources[id], "Properties", "Auth") != nil {
			if admin != "" {
				t.Errorf("two APIs with an authorizer: %s and %s", admin, id)
			}
			admin = id
		} else {
			if widget != "" {
				t.Errorf("two APIs without an authorizer: %s and %s", widget, id)
			}
			widget = id
		}
	}
	if len(apis) != 2 || admin == "" || widget == "" {
		t.Fatalf("want the admin API (with the JWT authorizer) and the widget API (without), got %v", apis)
	}
	a := at(tpl.resources[admin], "Properties", "Auth")
	def := scalar(at(a, "DefaultAuthorizer"))
	jwt := at(a, "Authorizers", def)
	if def == "" || jwt == nil {
		t.Fatalf("%s: Auth.DefaultAuthorizer must name one of Auth.Authorizers", admin)
	}
	if got := scalar(at(jwt, "IdentitySource")); got != "$request.header.Authorization" {
		t.Errorf("authorizer IdentitySource = %q, want $request.header.Authorization", got)
	}
	// The deployment's own issuer (PublicBaseUrl, the functions' TOKEN_ISSUER) unless
	// JwtIssuer names an external identity provider.
	if got := ifText(at(jwt, "JwtConfiguration", "issuer")); got != "OwnIssuer ? PublicBaseUrl : JwtIssuer" {
		t.Errorf("JwtConfiguration.issuer must be !If [OwnIssuer, !Ref PublicBaseUrl, !Ref JwtIssuer], not %q", got)
	}
	if c := at(tpl.root, "Conditions", "OwnIssuer"); c == nil || c.Tag != "!Equals" || len(c.Content) != 2 || refTarget(c.Content[0]) != "JwtIssuer" || scalar(c.Content[1]) != "" {
		t.Errorf(`Conditions.OwnIssuer must be !Equals [!Ref JwtIssuer, ""]`)
	}
	if d := at(tpl.root, "Parameters", "JwtIssuer", "Default"); d == nil || scalar(d) != "" {
		t.Errorf(`Parameters.JwtIssuer must default to "" (the deployment's own issuer)`)
	}
	aud := list(at(jwt, "JwtConfiguration", "audience"))
	if len(aud) != 1 || refTarget(aud[0]) != "JwtAudience" {
		t.Errorf("JwtConfiguration.audience must be [!Ref JwtAudience]")
	}
	for _, p := range []string{"JwtIssuer", "JwtAudience"} {
		if at(tpl.root, "Parameters", p) == nil {
			t.Errorf("Parameters.%s is missing", p)
		}
	}
	// The widget API: throttled below the admin API.
	rate := func(id, k string) int {
		n, _ := strconv.Atoi(scalar(at(tpl.resources[id], "Properties", "DefaultRouteSettings", k)))
		return n
	}
	for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
		if w, a := rate(widget, k), rate(admin, k); w <= 0 || w >= a {
			t.Errorf("%s.DefaultRouteSettings.%s = %d: want it set, and below the admin API's %d", widget, k, w, a)
		}
	}
	return admin, widget
}

func checkTable(t *testing.T, tpl cfn) {
	t.Helper()
	tables := tpl.ofType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("want the single table, got %v", tables)
	}
	res := tpl.resources[tables[0]]
	p := at(res, "Properties")
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if got := scalar(at(res, policy)); got != "Retain" {
			t.Errorf("table %s = %q, want Retain", policy, got)
		}
	}
	if got := scalar(at(p, "BillingMode")); got != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %q, want PAY_PER_REQUEST", got)
	}
	// The template declares the table dynamo.CreateTable makes for DynamoDB Local and the
	// tests: the same attributes, keys and indexes.
	def := dynamo.TableDefinition("t")
	attrs, wantAttrs := map[string]string{}, map[string]string{}
	for _, d := range list(at(p, "AttributeDefinitions")) {
		attrs[scalar(at(d, "AttributeName"))] = scalar(at(d, "AttributeType"))
	}
	for _, d := range def.AttributeDefinitions {
		wantAttrs[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	if jsonText(attrs) != jsonText(wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, want %v (dynamo.TableDefinition)", attrs, wantAttrs)
	}
	keys := func(n *yaml.Node) string {
		var s []string
		for _, k := range list(n) {
			s = append(s, scalar(at(k, "AttributeName"))+" "+scalar(at(k, "KeyType")))
		}
		return strings.Join(s, ", ")
	}
	wantKeys := func(ks []ddbtypes.KeySchemaElement) string {
		var s []string
		for _, k := range ks {
			s = append(s, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return strings.Join(s, ", ")
	}
	if got, want := keys(at(p, "KeySchema")), wantKeys(def.KeySchema); got != want || got != "pk HASH, sk RANGE" {
		t.Errorf("KeySchema = %s, want %s", got, want)
	}
	indexes := map[string]string{}
	for _, g := range list(at(p, "GlobalSecondaryIndexes")) {
		indexes[scalar(at(g, "IndexName"))] = keys(at(g, "KeySchema")) + " " + scalar(at(g, "Projection", "ProjectionType"))
	}
	wantIndexes := map[string]string{}
	for _, g := range def.GlobalSecondaryIndexes {
		wantIndexes[aws.ToString(g.IndexName)] = wantKeys(g.KeySchema) + " " + string(g.Projection.ProjectionType)
	}
	if jsonText(indexes) != jsonText(wantIndexes) {
		t.Errorf("GlobalSecondaryIndexes = %v, want %v (dynamo.TableDefinition)", indexes, wantIndexes)
	}
	if got := indexes[dynamo.AuditIndex]; got != "ap HASH, sk RANGE ALL" {
		t.Errorf("%s = %q, want ap HASH, sk RANGE projecting ALL attributes", dynamo.AuditIndex, got)
	}
	if !isTrue(at(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) {
		t.Errorf("point-in-time recovery must be enabled")
	}
	if !isTrue(at(p, "SSESpecification", "SSEEnabled")) {
		t.Errorf("SSESpecification.SSEEnabled must be true")
	}
	ttl := at(p, "TimeToLiveSpecification")
	if scalar(at(ttl, "AttributeName")) != "expiresAt" || !isTrue(at(ttl, "Enabled")) {
		t.Errorf("TTL must be enabled on expiresAt")
	}
	// The audit function queries the index, so its policy must name it.
	found := false
	for _, id := range tpl.ofType("AWS::Serverless::Function") {
		for _, pol := range list(at(tpl.resources[id], "Properties", "Policies")) {
			for _, st := range list(at(pol, "Statement")) {
				for _, r := range list(at(st, "Resource")) {
					found = found || intrinsicText(r) == "${"+tables[0]+".Arn}/index/"+dynamo.AuditIndex
				}
			}
		}
	}
	if !found {
		t.Errorf("no function may query ${%s.Arn}/index/%s", tables[0], dynamo.AuditIndex)
	}
}

func checkBucket(t *testing.T, tpl cfn) {
	t.Helper()
	buckets := tpl.ofType("AWS::S3::Bucket")
	if len(buckets) != 1 {
		t.Fatalf("want the logo bucket only, got %v", buckets)
	}
	id := buckets[0]
	p := at(tpl.resources[id], "Properties")
	encrypted := false
	for _, r := range list(at(p, "BucketEncryption", "ServerSideEncryptionConfiguration")) {
		switch scalar(at(r, "ServerSideEncryptionByDefault", "SSEAlgorithm")) {
		case "AES256", "aws:kms", "aws:kms:dsse":
			encrypted = true
		}
	}
	if !encrypted {
		t.Errorf("%s: BucketEncryption must set a default SSE algorithm", id)
	}
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if !isTrue(at(p, "PublicAccessBlockConfiguration", k)) {
			t.Errorf("%s: PublicAccessBlockConfiguration.%s must be true", id, k)
		}
	}
	owner := false
	for _, r := range list(at(p, "OwnershipControls", "Rules")) {
		owner = owner || scalar(at(r, "ObjectOwnership")) == "BucketOwnerEnforced"
	}
	if !owner {
		t.Errorf("%s: OwnershipControls must be BucketOwnerEnforced (no ACLs)", id)
	}
	tls := false
	for _, pid := range tpl.ofType("AWS::S3::BucketPolicy") {
		bp := at(tpl.resources[pid], "Properties")
		if refTarget(at(bp, "Bucket")) != id {
			continue
		}
		for _, st := range list(at(bp, "PolicyDocument", "Statement")) {
			if scalar(at(st, "Effect")) == "Deny" && scalar(at(st, "Condition", "Bool", "aws:SecureTransport")) == "false" {
				tls = true
			}
		}
	}
	if !tls {
		t.Errorf("%s: no bucket policy denies requests without TLS (aws:SecureTransport false)", id)
	}
}

// checkTriggers checks what invokes a function against its kind: an HTTP function only
// HttpApi events; an event function exactly one EventBridgeRule whose pattern is its
// Consumer's source and detail-types, with a retry policy and a dead-letter queue, and
// the function's own asynchronous-invocation retries and failure destination; a sweep
// exactly one ScheduleV2 on its Sweep's expression, with a retry policy and a dead-letter
// queue, and a timeout that leaves it time to work and stop cleanly.
func checkTriggers(t *testing.T, tpl cfn, id string, f app.Function) {
	t.Helper()
	kinds := map[string][]*yaml.Node{}
	for _, ev := range entries(tpl.prop(id, "Events")) {
		typ := scalar(at(ev.Value, "Type"))
		kinds[typ] = append(kinds[typ], at(ev.Value, "Properties"))
	}
	want := map[string]string{app.KindHTTP: "HttpApi", app.KindEvent: "EventBridgeRule", app.KindSweep: "ScheduleV2"}[f.Kind()]
	for typ, evs := range kinds {
		if typ != want {
			t.Errorf("%s is a %s function: it may have %s events only, not %s", f.Name, f.Kind(), want, typ)
		}
		if typ == want && typ != "HttpApi" && len(evs) != 1 {
			t.Errorf("%s: %d %s events, want exactly one", f.Name, len(evs), typ)
		}
	}
	if f.Kind() != app.KindHTTP && len(kinds[want]) == 0 {
		t.Errorf("%s is a %s function but the template gives it no %s event", f.Name, f.Kind(), want)
		return
	}
	dlq := func(p *yaml.Node, what string) {
		if at(p, "RetryPolicy", "MaximumRetryAttempts") == nil || at(p, "RetryPolicy", "MaximumEventAgeInSeconds") == nil {
			t.Errorf("%s: the %s needs a RetryPolicy with MaximumRetryAttempts and MaximumEventAgeInSeconds", f.Name, what)
		}
		if scalar(at(p, "DeadLetterConfig", "Type")) != "SQS" && at(p, "DeadLetterConfig", "Arn") == nil {
			t.Errorf("%s: the %s needs a DeadLetterConfig (Type: SQS, or the Arn of a queue) so that events it gives up on are kept", f.Name, what)
		}
	}
	switch f.Kind() {
	case app.KindEvent:
		p := kinds[want][0]
		var src, types []string
		for _, n := range list(at(p, "Pattern", "source")) {
			src = append(src, scalar(n))
		}
		for _, n := range list(at(p, "Pattern", "detail-type")) {
			types = append(types, scalar(n))
		}
		if !slices.Equal(src, []string{f.Events.Source}) {
			t.Errorf("%s: rule pattern source %v, want [%s]", f.Name, src, f.Events.Source)
		}
		if got, want := slices.Sorted(slices.Values(types)), slices.Sorted(slices.Values(f.Events.DetailTypes)); !slices.Equal(got, want) {
			t.Errorf("%s: rule pattern detail-type %v, want the consumer's %v", f.Name, got, want)
		}
		if refTarget(at(p, "EventBusName")) != "ChatEventBusName" {
			t.Errorf("%s: the rule's EventBusName must !Ref the ChatEventBusName parameter (the chat platform's bus)", f.Name)
		}
		dlq(p, "EventBridge rule")
		inv := tpl.prop(id, "EventInvokeConfig")
		if at(inv, "MaximumRetryAttempts") == nil || scalar(at(inv, "DestinationConfig", "OnFailure", "Type")) != "SQS" {
			t.Errorf("%s: EventInvokeConfig needs MaximumRetryAttempts and an SQS OnFailure destination: events whose handling keeps failing must be kept, not lost", f.Name)
		}
	case app.KindSweep:
		p := kinds[want][0]
		if got := scalar(at(p, "ScheduleExpression")); got != f.Sweep.Schedule {
			t.Errorf("%s: ScheduleExpression %q, want the sweep's %q (the local server runs the same)", f.Name, got, f.Sweep.Schedule)
		}
		dlq(p, "schedule")
		var in struct {
			Sweep         string `json:"sweep"`
			ScheduledTime string `json:"scheduledTime"`
		}
		if err := json.Unmarshal([]byte(scalar(at(p, "Input"))), &in); err != nil || in.Sweep != f.Name || in.ScheduledTime != "<aws.scheduler.scheduled-time>" {
			t.Errorf("%s: schedule Input %q, want {\"sweep\":%q,\"scheduledTime\":\"<aws.scheduler.scheduled-time>\"} (what lambdafn's sweep entry point reads)", f.Name, scalar(at(p, "Input")), f.Name)
		}
		if scalar(at(p, "FlexibleTimeWindow", "Mode")) != "OFF" {
			t.Errorf("%s: FlexibleTimeWindow Mode must be OFF (runs at the schedule's times, so the next run resumes where this one stopped)", f.Name)
		}
		if n, err := strconv.Atoi(scalar(tpl.prop(id, "Timeout"))); err != nil || n < 60 {
			t.Errorf("%s: Timeout %q, want at least 60 seconds (a sweep stops on its own before it)", f.Name, scalar(tpl.prop(id, "Timeout")))
		}
	}
}
