"""What the user sees while capturing."""
