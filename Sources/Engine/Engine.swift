// The network engine (issue 3) lives here.
