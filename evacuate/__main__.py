from evacuate.cli.app import main

main()
