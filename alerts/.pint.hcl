// cloudflare/pint configuration for the generated rules: `pint --offline --config alerts/.pint.hcl lint
// prometheus/rules/*.yml` (alerts/test/rules.test.ts runs it and fails on any problem pint reports).

// Lookout's alert conventions, enforced on every alerting rule.
rule {
  match {
    kind = "alerting"
  }
  label "severity" {
    severity = "bug"
    values   = ["page", "ticket", "info"]
    required = true
  }
  label "service" {
    severity = "bug"
    required = true
  }
  annotation "summary" {
    severity = "bug"
    required = true
  }
  annotation "description" {
    severity = "bug"
    value    = ".*[{][{] [$]value.*"
    required = true
  }
  annotation "runbook_url" {
    severity = "bug"
    value    = "docs/runbooks/[A-Za-z]+[.]md"
    required = true
  }
  annotation "dashboard_url" {
    severity = "bug"
    value    = "/d/lookout-[a-z-]+([?].*)?"
    required = true
  }
}

// Watchdog fires always by design: it is the dead man's switch.
rule {
  match {
    name = "Watchdog"
  }
  disable = ["alerts/comparison"]
}

// One group per SLO (so that an SLO's alerts see its recordings of the same evaluation), all recording the same
// Sloth names told apart by the `slo` label: pint cannot see that the 30-day rules only read their own group's
// series, so its cross-group dependency check is a false positive here.
rule {
  match {
    path = ".*slos[.]yml"
  }
  disable = ["rule/dependency"]
}
