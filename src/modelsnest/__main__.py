from modelsnest.cli import main

main()
