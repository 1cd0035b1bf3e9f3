package relayctl

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// deploymentPolicyFile is the identity policy the fake's caller holds.
const deploymentPolicyFile = "../../deploy/iam/deployment-policy.json"

// stringList is an IAM policy element that is a string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*l = many
	return err
}

// iamStatement is one statement of an identity policy.
type iamStatement struct {
	Sid       string
	Effect    string
	Action    stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

// iamPolicy is an identity policy the fake evaluates.
type iamPolicy struct {
	Version   string
	Statement []iamStatement
}

// loadDeploymentPolicy reads deploy/iam/deployment-policy.json as an
// administrator installs it: with the account's id, and the partition's
// name in its ARNs.
func loadDeploymentPolicy(t testing.TB, partition, account string) iamPolicy {
	t.Helper()
	b, err := os.ReadFile(deploymentPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "<ACCOUNT_ID>", account)
	s = strings.ReplaceAll(s, "arn:aws:", "arn:"+partition+":")
	var p iamPolicy
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("%s: %v", deploymentPolicyFile, err)
	}
	return p
}

// authz is what AWS authorises for one call: an action on a resource, in
// a request context (condition keys and their values; a key the request
// does not carry is absent).
type authz struct {
	action, resource string
	context          map[string]string
}

// allows evaluates the policy as IAM does for a single identity policy: an
// explicit Deny wins, otherwise some Allow statement must match the
// action, the resource and every condition. It reports a condition
// operator it does not know as a test error, so a policy cannot pass by
// using one the fake ignores.
func (p iamPolicy) allows(t testing.TB, a authz) bool {
	allowed := false
	for _, st := range p.Statement {
		if !matchAny(st.Action, a.action, true) || !matchAny(st.Resource, a.resource, false) || !conditionsHold(t, st.Condition, a.context) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = allowed || st.Effect == "Allow"
	}
	return allowed
}

func matchAny(patterns []string, value string, fold bool) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return wildcardMatch(p, value, fold) })
}

// wildcardMatch matches IAM's wildcards: "*" any run of characters
// (colons and slashes too), "?" any one.
func wildcardMatch(pattern, value string, fold bool) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.ReplaceAll(re, `\*`, ".*")
	re = strings.ReplaceAll(re, `\?`, ".")
	if fold {
		re = "(?i)" + re
	}
	return regexp.MustCompile("^" + re + "$").MatchString(value)
}

// conditionsHold evaluates a statement's Condition block: every operator,
// every key, and for each key any of its values.
func conditionsHold(t testing.TB, cond map[string]map[string]stringList, ctx map[string]string) bool {
	for op, keys := range cond {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, values := range keys {
			got, present := ctx[strings.ToLower(key)]
			if base == "Null" {
				// "true": the key must be absent; "false": present.
				if !slices.Contains(values, map[bool]string{true: "false", false: "true"}[present]) {
					return false
				}
				continue
			}
			if !present {
				if ifExists {
					continue
				}
				return false
			}
			var ok bool
			switch base {
			case "StringEquals", "Bool", "ArnEquals":
				ok = slices.Contains(values, got)
			case "StringLike", "ArnLike":
				ok = matchAny(values, got, false)
			case "StringNotEquals":
				ok = !slices.Contains(values, got)
			default:
				t.Errorf("fake AWS: condition operator %s is not implemented by the fake's policy evaluation", op)
				return false
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// withoutStatement returns the policy without the statement sid.
func (p iamPolicy) withoutStatement(sid string) iamPolicy {
	p.Statement = slices.DeleteFunc(slices.Clone(p.Statement), func(st iamStatement) bool { return st.Sid == sid })
	return p
}

// EditPolicy changes the caller's identity policy in place.
func (s *fakeAWS) EditPolicy(edit func(*iamPolicy)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policy
	p.Statement = slices.Clone(p.Statement)
	edit(&p)
	s.policy = p
}

// allowed reports whether the caller may make a call; s.mu is held.
func (s *fakeAWS) allowed(a authz) bool {
	return !s.denied[a.action] && s.policy.allows(s.t, a)
}

// SetPartition moves the fake into another AWS partition: the caller's
// ARN, every ARN it makes and the caller's policy (its ARNs edited as an
// administrator of that partition installs it).
func (s *fakeAWS) SetPartition(partition string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Partition = partition
	s.policy = loadDeploymentPolicy(s.t, partition, fakeAccount)
}
