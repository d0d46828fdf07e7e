"""Files kept outside the database by their SHA-256 (photographs), and the checks that
make an upload a clean photograph."""
