package vmfaultsource

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

func validOpenStack() *Config {
	c := defaultConfig()
	c.Provider = ProviderOpenStack
	c.Auth = AuthConfig{URL: "https://keystone.example:5000/v3", Username: "sluice", UserDomain: "Default", Password: "s3cret",
		Project: "ops", ProjectDomain: "Default"}
	c.Watch = []WatchEntry{{All: true}}
	return c
}

func fields(err error) []string {
	var out []string
	for _, e := range pipeline.Unjoin(err) {
		var fe *pipeline.FieldError
		if errors.As(e, &fe) {
			out = append(out, fe.Field)
		} else {
			out = append(out, "?"+e.Error())
		}
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		fields []string
	}{
		{"valid", func(*Config) {}, nil},
		{"valid by ids", func(c *Config) {
			c.Auth.Username, c.Auth.UserDomain, c.Auth.UserID = "", "", "u1"
			c.Auth.Project, c.Auth.ProjectDomain, c.Auth.ProjectID = "", "", "p1"
		}, nil},
		{"valid by domain ids", func(c *Config) {
			c.Auth.UserDomain, c.Auth.UserDomainID = "", "default"
			c.Auth.ProjectDomain, c.Auth.ProjectDomainID = "", "default"
		}, nil},
		{"domain by name and id", func(c *Config) { c.Auth.UserDomainID, c.Auth.ProjectDomainID = "default", "default" },
			[]string{"auth.user_domain_id", "auth.project_domain_id"}},
		{"user id with domain", func(c *Config) { c.Auth.Username, c.Auth.UserID = "", "u1" }, []string{"auth.user_id"}},
		{"provider", func(c *Config) { c.Provider = "vmware" }, []string{"provider"}},
		{"no auth", func(c *Config) { c.Auth = AuthConfig{} }, []string{"auth.url", "auth.username", "auth.password", "auth.project"}},
		{"user without domain", func(c *Config) { c.Auth.UserDomain = "" }, []string{"auth.user_domain"}},
		{"project without domain", func(c *Config) { c.Auth.ProjectDomain = "" }, []string{"auth.project_domain"}},
		{"url with password", func(c *Config) { c.Auth.URL = "https://u:p@k/v3" }, []string{"auth.url"}},
		{"interface", func(c *Config) { c.Auth.Interface = "private" }, []string{"auth.interface"}},
		{"microversion", func(c *Config) { c.Microversion = "3.1" }, []string{"microversion"}},
		{"microversion latest", func(c *Config) { c.Microversion = "latest" }, nil},
		{"no watch", func(c *Config) { c.Watch = nil }, []string{"watch"}},
		{"watch both", func(c *Config) { c.Watch = []WatchEntry{{All: true, Server: "x"}} }, []string{"watch[0].all"}},
		{"watch neither", func(c *Config) { c.Watch = []WatchEntry{{Tenant: "t"}} }, []string{"watch[0].server"}},
		{"watch duplicate", func(c *Config) { c.Watch = []WatchEntry{{Server: "a"}, {Server: "a", Tenant: "ops"}} }, []string{"watch[1]"}},
		{"watch interval", func(c *Config) { c.Watch = []WatchEntry{{All: true, Interval: time.Nanosecond}} }, []string{"watch[0].interval"}},
		{"tenant with project id", func(c *Config) {
			c.Auth.Project, c.Auth.ProjectDomain, c.Auth.ProjectID = "", "", "p1"
			c.Watch = []WatchEntry{{All: true, Tenant: "x"}}
		}, []string{"watch[0].tenant"}},
		{"negative", func(c *Config) { c.Concurrency, c.PageSize, c.Timeout, c.Interval = -1, -1, -1, -1 },
			[]string{"interval", "timeout", "concurrency", "page_size"}},
		{"retry", func(c *Config) { c.Retry.Initial = 0 }, []string{"retry.initial"}},
		{"azure keys", func(c *Config) { c.Endpoint, c.VMName = "http://x", "vm" }, []string{"endpoint", "vm_name"}},
		{"tls both", func(c *Config) { c.TLS = tlsconfig.Config{CAFile: "ca.pem", InsecureSkipVerify: true} }, []string{"tls.insecure_skip_verify"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validOpenStack()
			tc.mutate(c)
			err := c.Validate()
			if tc.fields == nil {
				require.NoError(t, err)
				return
			}
			assert.ElementsMatch(t, tc.fields, fields(err))
		})
	}
}

func TestConfigValidateAzure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		fields []string
	}{
		{"valid", func(*Config) {}, nil},
		{"approve", func(c *Config) { c.Approve = &ApproveConfig{After: time.Minute} }, nil},
		{"approve negative", func(c *Config) { c.Approve = &ApproveConfig{After: -time.Second} }, []string{"approve.after"}},
		{"endpoint", func(c *Config) { c.Endpoint = "169.254.169.254" }, []string{"endpoint"}},
		{"openstack keys", func(c *Config) {
			c.Auth.URL, c.Watch, c.Microversion, c.StoppedIsFault = "http://k", []WatchEntry{{All: true}}, "2.1", true
		}, []string{"auth", "watch", "microversion", "stopped_is_fault"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			c.Provider = ProviderAzure
			tc.mutate(c)
			err := c.Validate()
			if tc.fields == nil {
				require.NoError(t, err)
				return
			}
			assert.ElementsMatch(t, tc.fields, fields(err))
		})
	}
	c := defaultConfig()
	c.Provider = ProviderAzure
	assert.Equal(t, time.Second, c.withDefaults().Interval, "Azure asks for about one poll a second")
}

func TestConfigNeverPrintsThePassword(t *testing.T) {
	c := validOpenStack()
	c.Auth.URL = ""
	err := c.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c, c, c), "s3cret")
}

func TestDefaults(t *testing.T) {
	c := validOpenStack().withDefaults()
	assert.Equal(t, 30*time.Second, c.Interval)
	assert.Equal(t, DefaultMicroversion, c.Microversion)
	assert.Equal(t, InterfacePublic, c.Auth.Interface)
	assert.Equal(t, defaultConcurrency, c.Concurrency)
}
