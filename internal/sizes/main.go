// Command sizes builds every function's Lambda bootstrap and, beside each, the floor it
// needs: a bootstrap that does nothing but what the function cannot avoid linking (the
// Lambda runtime and the API Gateway adapter; the AWS SDK clients it calls, with the
// operations it uses; the zone database, language tables or image decoders when it embeds
// them), so that
// what our own code adds is visible. It fails when a bootstrap is 10 MiB or more.
//
//	go run ./internal/sizes [-out build]      (make sizes)
package main

import (
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

const limit = 10 << 20

// A part is something a floor links, found in a function's dependencies.
type part struct {
	dep     string // an import path in the function's dependencies that calls for it
	name    string
	imports []string
	code    string // statements in the handler that use it
}

var parts = []part{
	{"github.com/aws/aws-sdk-go-v2/service/dynamodb", "dynamodb",
		[]string{"github.com/aws/aws-sdk-go-v2/service/dynamodb"},
		`db := dynamodb.NewFromConfig(cfg)
		_, _ = db.GetItem(ctx, &dynamodb.GetItemInput{})
		_, _ = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{})
		_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{})
		_, _ = db.Query(ctx, &dynamodb.QueryInput{})`},
	{"github.com/aws/aws-sdk-go-v2/service/secretsmanager", "secretsmanager",
		[]string{"github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
		`sm := secretsmanager.NewFromConfig(cfg)
		_, _ = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{})
		_, _ = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{})
		_, _ = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{})`},
	{"github.com/aws/aws-sdk-go-v2/service/eventbridge", "eventbridge",
		[]string{"github.com/aws/aws-sdk-go-v2/service/eventbridge"},
		`eb := eventbridge.NewFromConfig(cfg)
		_, _ = eb.PutEvents(ctx, &eventbridge.PutEventsInput{})`},
	{"github.com/aws/aws-sdk-go-v2/service/sesv2", "sesv2",
		[]string{"github.com/aws/aws-sdk-go-v2/service/sesv2"},
		`ses := sesv2.NewFromConfig(cfg)
		_, _ = ses.SendEmail(ctx, &sesv2.SendEmailInput{})`},
	{"github.com/aws/aws-sdk-go-v2/service/kms", "kms",
		[]string{"github.com/aws/aws-sdk-go-v2/service/kms"},
		`k := kms.NewFromConfig(cfg)
		_, _ = k.GetPublicKey(ctx, &kms.GetPublicKeyInput{})
		_, _ = k.Sign(ctx, &kms.SignInput{})`},
	{"github.com/golang-jwt/jwt/v5", "jwt", []string{"github.com/golang-jwt/jwt/v5"},
		`_, _ = jwt.Parse(r.URL.Path, func(*jwt.Token) (any, error) { return []byte(r.URL.Path), nil }, jwt.WithValidMethods([]string{"HS256"}))`},
	{"net/mail", "mail", []string{"net/mail"}, `_, _ = mail.ParseAddress(r.URL.Path)`},
	{"golang.org/x/text/unicode/norm", "norm", []string{"golang.org/x/text/unicode/norm"},
		`_ = norm.NFC.String(r.URL.Path)`},
	{"golang.org/x/text/cases", "cases", []string{"golang.org/x/text/cases"},
		`_ = cases.Fold().String(r.URL.Path)`},
	{"golang.org/x/text/language", "language", []string{"golang.org/x/text/language"},
		`_, _ = language.Parse(r.URL.Path)`},
	{"github.com/aws/aws-sdk-go-v2/service/s3", "s3",
		[]string{"github.com/aws/aws-sdk-go-v2/service/s3"},
		`s := s3.NewFromConfig(cfg)
		_, _ = s.GetObject(ctx, &s3.GetObjectInput{})
		_, _ = s.PutObject(ctx, &s3.PutObjectInput{})
		_, _ = s.DeleteObject(ctx, &s3.DeleteObjectInput{})`},
	{"time/tzdata", "tzdata", []string{"time", "_ time/tzdata"}, `_, _ = time.LoadLocation(r.URL.Path)`},
	{"image/jpeg", "images", []string{"bytes", "image/gif", "image/jpeg", "image/png"},
		`_, _ = png.Decode(bytes.NewReader(nil))
		_, _ = jpeg.Decode(bytes.NewReader(nil))
		_, _ = gif.Decode(bytes.NewReader(nil))`},
}

func main() {
	out := flag.String("out", "build", "folder for the bootstraps and the floors")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dirs, err := filepath.Glob("functions/*/main.go")
	if err != nil {
		return err
	}
	fmt.Printf("%-16s %12s  %-36s %12s  %s\n", "function", "bytes", "floor", "bytes", "above floor")
	over := false
	for _, m := range dirs {
		name := filepath.Base(filepath.Dir(m))
		deps, err := output("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/"+name)
		if err != nil {
			return err
		}
		var used []part
		for _, p := range parts {
			if slices.Contains(strings.Fields(deps), p.dep) {
				used = append(used, p)
			}
		}
		floor := "lambda"
		for _, p := range used {
			floor += "+" + p.name
		}
		fsrc := filepath.Join(out, "sizefloor", floor, "main.go")
		if err := writeFloor(fsrc, used); err != nil {
			return err
		}
		fb, err := build("./"+filepath.Dir(fsrc), filepath.Join(out, "sizefloor", floor, "bootstrap"))
		if err != nil {
			return err
		}
		b, err := build("./functions/"+name, filepath.Join(out, name, "bootstrap"))
		if err != nil {
			return err
		}
		fmt.Printf("%-16s %12d  %-36s %12d  %+6.1f%%\n", name, b, floor, fb, 100*float64(b-fb)/float64(fb))
		if b >= limit {
			fmt.Printf("%s is 10 MiB or more\n", name)
			over = true
		}
	}
	if over {
		return fmt.Errorf("a bootstrap is over the 10 MiB budget")
	}
	return nil
}

func writeFloor(path string, used []part) error {
	imports := []string{"context", "net/http", "github.com/aws/aws-lambda-go/lambda", "github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"}
	var code []string
	sdk := false
	for _, p := range used {
		imports = append(imports, p.imports...)
		code = append(code, p.code)
		sdk = sdk || strings.HasPrefix(p.dep, "github.com/aws/aws-sdk-go-v2/")
	}
	if sdk {
		imports = append(imports, "github.com/aws/aws-sdk-go-v2/aws")
		code = append([]string{`cfg := aws.Config{Region: "us-east-1"}`}, code...)
	}
	slices.Sort(imports)
	imports = slices.Compact(imports)
	var b strings.Builder
	b.WriteString("// Code generated by internal/sizes: the size floor of a function. DO NOT EDIT.\npackage main\n\nimport (\n")
	for _, i := range imports {
		if blank, ok := strings.CutPrefix(i, "_ "); ok {
			fmt.Fprintf(&b, "\t_ %q\n", blank)
			continue
		}
		fmt.Fprintf(&b, "\t%q\n", i)
	}
	b.WriteString(")\n\nfunc main() {\n\th := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\tctx := context.Background()\n\t\t_ = ctx\n")
	for _, c := range code {
		b.WriteString("\t\t" + c + "\n")
	}
	b.WriteString("\t})\n\tlambda.Start(httpadapter.NewV2(h).ProxyWithContext)\n}\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, src, 0o644)
}

// build builds pkg as a stripped linux/arm64 bootstrap, as the Makefile does, and
// returns its size.
func build(pkg, dst string) (int64, error) {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", dst, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func output(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}
