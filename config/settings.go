package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Setting is one configuration leaf: its dotted key, environment variable,
// help text, and a pointer into a Config.
type Setting struct {
	Key  string // kafka.brokers
	Env  string // FLAGSTREAM_KAFKA_BROKERS
	Help string
	// Arg names the value in help, as in --kafka.brokers ADDR,...: the
	// field's arg tag, else a name for its type (N, DURATION, SIZE, FILE,
	// TOPIC…); empty for a true-or-false setting.
	Arg string
	ptr reflect.Value
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

// Sections returns the top-level keys of the config file (kafka, input,
// …) in the order the file documents them.
func Sections() []string {
	var out []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
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
			Arg:  argName(key, f),
			ptr:  fv,
		})
	}
}

// argName returns the placeholder of a setting's value in help: the arg
// tag when the field has one, else one named after the key's last part
// (a file, directory, topic or address) or the field's type.
func argName(key string, f reflect.StructField) string {
	if a := f.Tag.Get("arg"); a != "" {
		return a
	}
	last := key[strings.LastIndexByte(key, '.')+1:]
	switch t := f.Type; {
	case t.Kind() == reflect.Bool:
		return ""
	case t == reflect.TypeFor[time.Duration]():
		return "DURATION"
	case t == reflect.TypeFor[ByteSize]():
		return "SIZE"
	case t.Kind() == reflect.Int:
		return "N"
	case t.Kind() == reflect.Slice:
		return "VALUE,..."
	case last == "file" || strings.HasSuffix(last, "_file"):
		return "FILE"
	case last == "dir" || strings.HasSuffix(last, "_dir"):
		return "DIR"
	case last == "topic" || strings.HasSuffix(last, "_topic"):
		return "TOPIC"
	case last == "listen":
		return "ADDR"
	}
	return "TEXT"
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

// flagValue adapts a Setting to pflag.Value, recording that it was set.
type flagValue struct {
	s   Setting
	set map[string]string
}

// String returns the value given, or the default the flag was made with.
func (f *flagValue) String() string {
	if v, ok := f.set[f.s.Key]; ok {
		return v
	}
	return f.s.String()
}

// Type names the value in help (--kafka.brokers ADDR,...); pflag leaves
// out the name "bool" of a true-or-false flag.
func (f *flagValue) Type() string {
	if f.s.ptr.Kind() == reflect.Bool {
		return "bool"
	}
	return f.s.Arg
}

func (f *flagValue) Set(v string) error {
	f.set[f.s.Key] = v
	return nil
}

// Flags registers one flag per setting on fs (--kafka.brokers …), with
// its value's placeholder (Setting.Arg) as the flag's type and the
// default configuration's value as its default, and returns a function
// that applies the flags given, to be called after fs.Parse and after the
// file and environment are applied. A true-or-false setting may be given
// as a bare flag (--kafka.tls.enabled).
func Flags(fs *pflag.FlagSet) (apply func(cfg *Config) error) {
	given := map[string]string{}
	defaults := Default()
	for _, s := range Settings(&defaults) {
		if s.Key == "" {
			continue
		}
		f := fs.VarPF(&flagValue{s: s, set: given}, s.Key, "", s.Help)
		if s.ptr.Kind() == reflect.Bool {
			f.NoOptDefVal = "true"
		}
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
