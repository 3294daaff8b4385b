from hadoctor.cli import main

main()
