// The synthetic scene generator (issue 5) lives here.
