package sso

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ProvidersFile is the configuration file of identity providers
// (--sso-providers). Its providers are managed: the file is their source of
// truth, applied at every start, and the API cannot change them.
//
//	providers:
//	  - name: corp
//	    type: oidc
//	    display_name: Corp SSO
//	    group: default                   # where new users land
//	    client_secret_file: /etc/netkeep/corp-oidc.secret   # or client_secret
//	    settings:
//	      issuer: https://login.example.com/realms/corp
//	      client_id: netkeep
//	      groups_claim: groups
//	      group_mappings: [{claim: netkeep-admins, role: GROUP_ADMIN}]
//	      allowed_domains: [example.com]
type ProvidersFile struct {
	Providers []FileProvider `yaml:"providers"`
}

// FileProvider is one provider of the file. Settings use the same names as
// the API's settings object.
type FileProvider struct {
	Name             string       `yaml:"name"`
	Type             Kind         `yaml:"type"`
	DisplayName      string       `yaml:"display_name"`
	Group            string       `yaml:"group"`
	ClientSecret     string       `yaml:"client_secret"`
	ClientSecretFile string       `yaml:"client_secret_file"`
	Settings         fileSettings `yaml:"settings"`
}

// fileSettings reads Settings from YAML by their JSON names: the same
// fields in the same order, so one converts to the other.
type fileSettings struct {
	Issuer         string         `yaml:"issuer"`
	ClientID       string         `yaml:"client_id"`
	Scopes         []string       `yaml:"scopes"`
	MetadataURL    string         `yaml:"metadata_url"`
	MetadataXML    string         `yaml:"metadata_xml"`
	EntityID       string         `yaml:"entity_id"`
	UsernameClaim  string         `yaml:"username_claim"`
	EmailClaim     string         `yaml:"email_claim"`
	NameClaim      string         `yaml:"name_claim"`
	GroupsClaim    string         `yaml:"groups_claim"`
	GroupMappings  []GroupMapping `yaml:"group_mappings"`
	AllowedDomains []string       `yaml:"allowed_domains"`
	NoProvisioning bool           `yaml:"no_provisioning"`
}

// ParseProvidersFile reads the file's providers; readFile reads a
// client_secret_file (trailing newlines are not part of the secret).
// Unknown keys are errors, so a misspelt setting is not silently ignored.
func ParseProvidersFile(data []byte, readFile func(string) ([]byte, error)) ([]ProviderInput, error) {
	var f ProvidersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading identity providers: %w", err)
	}
	out := make([]ProviderInput, 0, len(f.Providers))
	for _, p := range f.Providers {
		secret := p.ClientSecret
		if p.ClientSecretFile != "" {
			b, err := readFile(p.ClientSecretFile)
			if err != nil {
				return nil, fmt.Errorf("identity provider %q: client_secret_file: %w", p.Name, err)
			}
			secret = strings.TrimRight(string(b), "\r\n")
		}
		out = append(out, ProviderInput{Name: p.Name, Kind: p.Type, DisplayName: p.DisplayName, Group: p.Group,
			ClientSecret: &secret, Settings: Settings(p.Settings)})
	}
	return out, nil
}
