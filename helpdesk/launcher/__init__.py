"""Process launcher behind `python3 run.py`: embedded servers, supervision, the test command."""
