"""What every service of the monorepo shares."""
