package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Setting is one configuration leaf: its dotted key, environment variable,
// help text, and a pointer into a Config.
type Setting struct {
	Key  string // kafka.brokers
	Env  string // FLAGSTREAM_KAFKA_BROKERS
	Help string
	ptr  reflect.Value
}

// Settings lists every leaf of cfg that a flag or an environment variable
// can set, sorted by key. The SASL password has only its environment
// variable.
func Settings(cfg *Config) []Setting {
	var out []Setting
	walk(reflect.ValueOf(cfg).Elem(), "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func walk(v reflect.Value, prefix string, out *[]Setting) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		fv := v.Field(i)
		if tag == "-" {
			if env := f.Tag.Get("env"); env != "" {
				*out = append(*out, Setting{Env: env, ptr: fv})
			}
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Secret]() {
			walk(fv, key, out)
			continue
		}
		*out = append(*out, Setting{
			Key:  key,
			Env:  "FLAGSTREAM_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
			Help: f.Tag.Get("help"),
			ptr:  fv,
		})
	}
}

// Set parses s into the setting.
func (s Setting) Set(text string) error {
	switch p := s.ptr.Addr().Interface().(type) {
	case *string:
		*p = text
	case *Secret:
		*p = NewSecret(text)
	case *[]string:
		*p = nil
		for _, part := range strings.Split(text, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*p = append(*p, part)
			}
		}
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not a duration (250ms, 10s, 1m)", text)
		}
		*p = d
	case *ByteSize:
		b, err := ParseByteSize(text)
		if err != nil {
			return err
		}
		*p = b
	default:
		return fmt.Errorf("setting of unsupported type %T", p)
	}
	return nil
}

// String returns the setting's current value as a flag or variable would
// write it; a secret is redacted.
func (s Setting) String() string {
	switch p := s.ptr.Interface().(type) {
	case []string:
		return strings.Join(p, ",")
	case fmt.Stringer:
		return p.String()
	}
	return fmt.Sprint(s.ptr.Interface())
}

// ApplyEnv sets every setting whose environment variable getenv returns
// non-empty.
func ApplyEnv(cfg *Config, getenv func(string) string) error {
	var errs []error
	for _, s := range Settings(cfg) {
		if v := getenv(s.Env); v != "" {
			if err := s.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
			}
		}
	}
	return errors.Join(errs...)
}

// flagValue adapts a Setting to flag.Value, recording that it was set.
type flagValue struct {
	s   Setting
	set map[string]string
}

func (f *flagValue) String() string { return "" }

// IsBoolFlag lets a true-or-false setting be given as a bare flag
// (--kafka.tls.enabled), like any Go bool flag.
func (f *flagValue) IsBoolFlag() bool { return f.s.ptr.Kind() == reflect.Bool }

func (f *flagValue) Set(v string) error {
	f.set[f.s.Key] = v
	return nil
}

// Flags registers one flag per setting on fs (--kafka.brokers …) and
// returns a function that applies the flags given, to be called after
// fs.Parse and after the file and environment are applied.
func Flags(fs *flag.FlagSet) (apply func(cfg *Config) error) {
	given := map[string]string{}
	defaults := Default()
	for _, s := range Settings(&defaults) {
		if s.Key == "" {
			continue
		}
		help := s.Help
		if def := s.String(); def != "" && def != "0" && def != "false" {
			help += fmt.Sprintf(" (default %s)", def)
		}
		help += fmt.Sprintf(" [$%s]", s.Env)
		fs.Var(&flagValue{s: s, set: given}, s.Key, help)
	}
	return func(cfg *Config) error {
		var errs []error
		for _, s := range Settings(cfg) {
			if v, ok := given[s.Key]; ok && s.Key != "" {
				if err := s.Set(v); err != nil {
					errs = append(errs, fmt.Errorf("--%s: %w", s.Key, err))
				}
			}
		}
		return errors.Join(errs...)
	}
}

// Load builds the configuration: defaults, then the file (when path is not
// empty), then the environment, then the flags, then the password file.
func Load(path string, getenv func(string) string, applyFlags func(*Config) error) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := Parse(&cfg, path, data); err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	if err := ApplyEnv(&cfg, getenv); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if applyFlags != nil {
		if err := applyFlags(&cfg); err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	if f := cfg.Kafka.SASL.PasswordFile; f != "" && cfg.Kafka.SASL.Password.Value() == "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("config: kafka.sasl.password_file: %w", err)
		}
		cfg.Kafka.SASL.Password = NewSecret(strings.TrimRight(string(data), "\r\n"))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config:\n%w", err)
	}
	return cfg, nil
}

// Marshal writes cfg as YAML with secrets redacted, for --print-config.
func Marshal(cfg *Config) ([]byte, error) {
	return yaml.Marshal(cfg)
}
